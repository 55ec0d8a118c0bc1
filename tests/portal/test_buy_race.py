"""200 members press "buy" on their own pages for 10 units, 25 at the same moment: exactly 10
are sold, each to a different member, with the stock gate on, and again with Redis unreachable."""

import pytest
from django.test import Client

from campaigns import stock_gate
from campaigns.models import Campaign, Order

from ..concurrency import run_concurrently
from .conftest import make_member, page, signed_in

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
UNREACHABLE_REDIS = "redis://127.0.0.1:6390/15"
WAVE = 25  # presses at the same moment: the suite shares PostgreSQL's 100 connections


def _race(org, group, sale, buyers: int = 200):
    clients = [signed_in(make_member(org, group, f"抢购{n}")) for n in range(buyers)]
    Client().get(page(org, "member-campaign", pk=sale.pk))  # the page loads the gate
    pending = iter(enumerate(clients))

    def press():
        n, client = next(pending)
        return client.post(
            page(org, "member-buy", pk=sale.pk), {"quantity": 1, "idempotency_key": f"race-{n}"}
        ).status_code

    statuses = []
    for _wave in range(0, buyers, WAVE):  # real parallel connections, within PostgreSQL's limit
        statuses += run_concurrently(press, times=min(WAVE, buyers - len(statuses)))
    assert all(status == 302 for status in statuses), statuses
    orders = Order.objects.for_org(org).filter(campaign=sale)
    left = Campaign.objects.for_org(org).get(pk=sale.pk).stock_left
    return orders.count(), orders.values("member").distinct().count(), left


def _ten_units(sale):
    Campaign.objects.for_org(sale.organization).filter(pk=sale.pk).update(
        stock_total=10, stock_left=10, per_member_cap=1
    )
    sale.refresh_from_db()
    stock_gate.forget(sale)
    return sale


def test_200_members_racing_for_10_units_buy_exactly_10(org_a, group, flash_sale):
    sale = _ten_units(flash_sale)
    assert _race(org_a.org, group, sale) == (10, 10, 0)


def test_with_redis_down_the_race_still_sells_exactly_10(org_a, group, flash_sale, settings):
    settings.STOCK_GATE_REDIS_URL = UNREACHABLE_REDIS
    stock_gate.reset_for_tests()
    try:
        sale = _ten_units(flash_sale)
        assert _race(org_a.org, group, sale, buyers=60) == (10, 10, 0)
    finally:
        stock_gate.reset_for_tests()
