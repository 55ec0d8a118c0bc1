from tenancy.tasks import tenant_task

from . import services


@tenant_task
def expire_unpaid_orders(org):
    return services.expire_unpaid(org)
