from tenancy.tasks import tenant_task

from . import delivery


@tenant_task
def deliver_webhooks(org):
    scheduled = delivery.schedule_deliveries(org)
    return {"scheduled": scheduled, **delivery.deliver_due(org)}
