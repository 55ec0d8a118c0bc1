from tenancy.tasks import tenant_task

from . import services


@tenant_task
def close_due_polls(org):
    """Polls and surveys whose closing time has come: closed, results posted (every minute)."""
    return services.close_due(org)
