from core import counters
from tenancy.tasks import tenant_task

from . import delivery


@tenant_task
def deliver_webhooks(org):
    scheduled = delivery.schedule_deliveries(org)
    result = delivery.deliver_due(org)
    counters.incr("webhook_attempts", result["sent"], result="delivered")
    counters.incr("webhook_attempts", result["failed"], result="failed")
    return {"scheduled": scheduled, **result}
