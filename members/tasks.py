"""Celery jobs of the member lifecycle: thin, per organization, idempotent."""

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
