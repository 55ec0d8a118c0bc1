from django.utils.translation import gettext as _

from tenancy.actors import Actor
from tenancy.tasks import tenant_task

from . import services
from .group_buys import expire_teams
from .lottery import run_due


@tenant_task
def expire_unpaid_orders(org):
    return services.expire_unpaid(org)


@tenant_task
def expire_group_buy_teams(org):
    return expire_teams(org)


@tenant_task
def run_due_lotteries(org):
    return run_due(org, Actor.system(org, _("scheduled draw")))
