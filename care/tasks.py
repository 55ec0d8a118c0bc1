from tenancy.tasks import tenant_task

from . import followups


@tenant_task
def make_follow_ups(org):
    return followups.make_follow_ups(org)
