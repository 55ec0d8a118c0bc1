"""Celery jobs of the content calendar: thin, per organization, safe to run twice."""

from tenancy.tasks import tenant_task

from . import content


@tenant_task
def dispatch_posts(org):
    return content.dispatch_due(org)


@tenant_task
def materialize_plans(org):
    return content.materialize(org)
