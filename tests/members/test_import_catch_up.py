"""An import whose task was never queued (the broker was down when the upload committed) is
run by beat's catch-up job instead of staying "queued" for ever (issue 19, item 13)."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members import csv_io, import_tasks
from members.models import ImportJob, Member


def test_an_import_whose_task_was_lost_is_resumed_by_the_periodic_job(org_a, monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    upload = SimpleUploadedFile("m.csv", "external_user_id,display_name\nwx1,小王\n".encode())
    # in a test transaction nothing is queued on commit: the job is left "queued", as it is
    # when the broker was unreachable
    job = csv_io.import_upload(actor=org_a.actor(), upload=upload)
    assert job.status == "queued"
    assert import_tasks.resume_queued_imports.run(org_a.org.pk) == 0  # fresh: its task may come
    ImportJob.objects.for_org(org_a.org).filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    assert import_tasks.resume_queued_imports.run(org_a.org.pk) == 1
    assert ImportJob.objects.for_org(org_a.org).get(pk=job.pk).status == "done"
    assert Member.objects.for_org(org_a.org).filter(display_name="小王").exists()
    assert import_tasks.resume_queued_imports.run(org_a.org.pk) == 0
