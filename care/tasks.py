from tenancy.tasks import tenant_task

from . import alerts, followups


@tenant_task
def make_follow_ups(org):
    return followups.make_follow_ups(org)


@tenant_task
def alert_due_cases(org):
    return alerts.alert_due_cases(org)
