"""Concurrent redemptions on real PostgreSQL: the balance never goes negative, stock never
below zero, every successful redemption is in the ledger."""

import pytest
from django.core.exceptions import ValidationError

from communities.models import RedemptionItem
from members import services
from members.models import Member, PointsEntry
from tenancy.actors import Actor
from tenancy.services import organization_create

from ..concurrency import run_concurrently


def _redeem_at_once(actor, member, item, times) -> list[str]:
    def redeem():
        services.points_redeem(actor=actor, member=member, item=item)
        return "ok"

    results = run_concurrently(redeem, times)
    assert all(r == "ok" or isinstance(r, ValidationError) for r in results), results
    return ["ok" if r == "ok" else "refused" for r in results]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overdraw():
    org = organization_create(name="并发积分", slug="points-race", owner_email="p@example.com")
    actor = Actor.system(org, "tests")
    member = Member.objects.create(organization=org, display_name="抢兑")
    services.points_adjust(actor=actor, member=member, delta=500, reason="seed")
    coupon = RedemptionItem.objects.create(organization=org, name="5元券", points_cost=100, stock=3)
    outcomes = _redeem_at_once(actor, member, coupon, 8)
    member.refresh_from_db()
    coupon.refresh_from_db()
    assert outcomes.count("ok") == 3  # the stock, not the 5 the points would allow
    assert coupon.stock == 0
    assert member.points_balance == 200
    ledger = list(
        PointsEntry.objects.for_org(org).filter(member=member).values_list("delta", flat=True)
    )
    assert sum(ledger) == member.points_balance
    assert ledger.count(-100) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_stop_at_the_balance():
    org = organization_create(name="并发积分2", slug="points-race-2", owner_email="q@example.com")
    actor = Actor.system(org, "tests")
    member = Member.objects.create(organization=org, display_name="抢兑2")
    services.points_adjust(actor=actor, member=member, delta=250, reason="seed")
    coupon = RedemptionItem.objects.create(organization=org, name="券", points_cost=100)
    outcomes = _redeem_at_once(actor, member, coupon, 6)
    member.refresh_from_db()
    assert outcomes.count("ok") == 2
    assert member.points_balance == 50
