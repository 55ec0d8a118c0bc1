from tenancy.tasks import tenant_task

from . import alerts, coupons, services, stock_gate
from .group_buys import expire_teams
from .lottery import run_due


@tenant_task
def expire_unpaid_orders(org):
    """Unpaid orders past their window give their units back; then stock gates that say sold
    out while the database has units left are reloaded (stock_gate.reconcile); coupons past
    their date are marked expired (after the orders, which may still return theirs)."""
    expired = services.expire_unpaid(org)
    stock_gate.reconcile(org)
    coupons.expire_coupons(org)
    return expired


@tenant_task
def expire_group_buy_teams(org):
    return expire_teams(org)


@tenant_task
def run_due_lotteries(org):
    """Freeze the entrant lists of lotteries whose entries closed (the draw waits for the
    public value, entered by staff or posted by a bot)."""
    return run_due(org)


@tenant_task
def alert_staff(org):
    """Group-buy teams about to fail, the monthly budget about to run out (campaigns/alerts.py)."""
    return alerts.alert_staff(org)
