"""Celery jobs of the member lifecycle: thin, per organization, idempotent."""

from celery import shared_task

from tenancy.models import Organization
from tenancy.tasks import tenant_task

from . import (
    import_tasks,  # noqa: F401 - registers the CSV import task with Celery
    jobs,
)


@tenant_task
def scan_dormant(org):
    return {"dormant": jobs.mark_dormant(org), "reminded": jobs.send_reminders(org)}


@tenant_task
def credit_invites(org):
    return jobs.credit_invites(org)


@tenant_task
def evaluate_tiers(org):
    return jobs.evaluate_tiers(org)


@shared_task
def fan_out(task_name: str):
    """Beat calls this once; it queues the job for every organization."""
    task = {
        "scan_dormant": scan_dormant,
        "credit_invites": credit_invites,
        "evaluate_tiers": evaluate_tiers,
    }[task_name]
    for org_id in Organization.objects.values_list("pk", flat=True):
        task.delay(org_id)
