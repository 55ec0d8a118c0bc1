"""The Celery task of a member CSV import: thin, it loads the job and runs `csv_io.run_import`.

Queued by `csv_io.import_upload` when the upload commits. The job's status is the claim
(queued → running, compare-and-set), so a task delivered twice runs the import once. Any error
marks the job failed with a message for the person watching its progress; the chunks committed
before it stay imported, and uploading the same file again is safe (the import is idempotent).
"""

import logging
from datetime import timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tenancy.tasks import tenant_task

from . import csv_io
from .models import ImportJob

logger = logging.getLogger(__name__)


@tenant_task
def run_import(org, job_id):
    job = ImportJob.objects.for_org(org).filter(pk=job_id).first()
    if job is None:
        return None
    job.organization = org
    with translation.override(org.default_language):  # the per-row error report's language
        return _run(job)


def _run(job):
    try:
        return csv_io.run_import(job)
    except Exception as exc:
        logger.exception("member import %s failed", job.pk)
        try:
            csv_io.import_failed(
                job,
                _(
                    "The import stopped because of an error on our side (%(error)s). The rows "
                    "counted as processed are saved; upload the file again to finish, re-importing "
                    "changes nothing twice."
                )
                % {"error": type(exc).__name__},
            )
        except Exception:
            logger.exception("could not mark member import %s as failed", job.pk)
        raise


STALE_AFTER = timedelta(minutes=10)
RESUME_BATCH = 20


@tenant_task
def resume_queued_imports(org):
    """Beat's catch-up: an import still queued ten minutes after its upload had its task lost
    (the broker was unreachable when the upload committed) or stuck behind a backlog; queue it
    again. Queueing one twice is harmless: the status claim lets a single task run it."""
    stale = list(
        ImportJob.objects.for_org(org)
        .filter(status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - STALE_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:RESUME_BATCH]
    )
    for job_id in stale:
        run_import.delay(org.pk, job_id)
    return len(stale)
