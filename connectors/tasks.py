from tenancy.tasks import tenant_task

from .telegram import sender
from .wecom import jobs
from .wecom import sender as wecom_sender


@tenant_task
def telegram_send(org):
    """Carry out the organization's pending Telegram actions (every minute from the beat,
    and right after a webhook update); does nothing while the connection is off."""
    return sender.send_due(org)


@tenant_task
def wecom_send(org):
    """Hand the organization's pending WeCom actions over (every minute; after a callback)."""
    return wecom_sender.send_due(org)


@tenant_task
def wecom_check_sends(org):
    """Finish the actions whose 客户群群发 task went out or failed; refresh changed welcome
    material (every five minutes)."""
    return jobs.check(org)


@tenant_task
def wecom_sync(org):
    """Every customer group's details and members, through the ingestion (on connection and
    nightly)."""
    return jobs.sync(org)
