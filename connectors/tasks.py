from tenancy.tasks import tenant_task

from .telegram import sender


@tenant_task
def telegram_send(org):
    """Carry out the organization's pending Telegram actions (every minute from the beat,
    and right after a webhook update); does nothing while the connection is off."""
    return sender.send_due(org)
