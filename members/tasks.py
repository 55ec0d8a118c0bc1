"""Celery jobs of the member lifecycle: thin, per organization, idempotent."""

from celery import shared_task

from tenancy.tasks import tenant_task

from . import (
    import_tasks,  # noqa: F401 - registers the CSV import task with Celery
    jobs,
    partitions,
)


@shared_task
def maintain_raw_event_partitions():
    """Daily (beat), system work for every organization at once: the raw events' monthly
    partitions created ahead, early arrivals filed, months past every retention dropped."""
    return partitions.maintain()


@tenant_task
def scan_dormant(org):
    return {"dormant": jobs.mark_dormant(org), "reminded": jobs.send_reminders(org)}


@tenant_task
def credit_invites(org):
    return jobs.credit_invites(org)


@tenant_task
def evaluate_tiers(org):
    return jobs.evaluate_tiers(org)
