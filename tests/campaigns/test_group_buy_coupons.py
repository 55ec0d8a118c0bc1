"""Group-buy orders take one coupon (docs/coupons.md): priced with the VIP tier and the coupon;
a team that fails gives the coupons back, a refund does not; a refused coupon leaves the team
as it was."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import coupons, group_buys, services
from campaigns.models import CouponEvent, IssuedCoupon, Order, Team, TeamMember
from communities import services as community_services
from communities.models import VipTier
from members.models import Member
from tenancy.actors import Actor

from ..factories import live_group_buy
from .test_coupons import _member, _template

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_buy(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="拼团群")
    campaign = live_group_buy(actor, group, price="120", original_price="150", days=2)
    return actor, group, campaign


def _coupon(actor, member, **kw):
    template = _template(actor, **kw)
    return coupons.coupon_issue(actor=actor, template=template, member=member, reason="r")


def test_a_team_join_is_priced_with_tier_and_coupon(team_buy):
    actor, group, campaign = team_buy
    org = actor.organization
    tier = VipTier.objects.create(organization=org, name="金卡", rank=1, discount_percent=5)
    leader, friend = _member(org, group, "团长"), _member(org, group, "朋友")
    Member.objects.for_org(org).filter(pk=friend.pk).update(tier=tier)
    friend.refresh_from_db()
    coupon = _coupon(actor, friend, min_spend="100")
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    team = group_buys.team_join(actor=actor, team=team, member=friend, coupon=coupon.pk)
    assert team.status == "succeeded"
    order = Order.objects.for_org(org).get(member=friend)
    assert order.list_amount == Decimal("120")
    assert order.tier_discount == Decimal("6.00")
    assert order.coupon_discount == Decimal("10")
    assert order.amount == Decimal("104.00")  # 120 - 6 - 10
    assert order.coupon_id == coupon.pk
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.order == order
    assert Order.objects.for_org(org).get(member=leader).amount == Decimal("120")


def test_the_coupon_comes_back_when_the_team_fails(team_buy):
    actor, group, campaign = team_buy
    org = actor.organization
    leader = _member(org, group, "团长")
    coupon = _coupon(actor, leader)
    group_buys.team_open(actor=actor, campaign=campaign, member=leader, coupon=coupon)
    coupon.refresh_from_db()
    assert coupon.status == "used"
    assert group_buys.expire_teams(org, now=timezone.now() + timedelta(hours=25)) == 1
    order = Order.objects.for_org(org).get(member=leader)
    assert order.status == "refunded"  # a bot-reported order was paid: refunded by the failure
    coupon.refresh_from_db()
    assert coupon.status == "available" and coupon.order is None
    assert CouponEvent.objects.for_org(org).filter(coupon=coupon, kind="returned").count() == 1


def test_an_unpaid_member_order_of_a_failed_team_returns_its_coupon(team_buy):
    actor, group, campaign = team_buy
    org = actor.organization
    leader = _member(org, group, "团长")
    coupon = _coupon(actor, leader)
    group_buys.team_open(
        actor=Actor.for_member(leader), campaign=campaign, member=leader, coupon=coupon.pk
    )
    order = Order.objects.for_org(org).get(member=leader)
    assert order.status == "pending_payment" and order.amount == Decimal("110")
    group_buys.expire_teams(org, now=timezone.now() + timedelta(hours=25))
    order.refresh_from_db()
    coupon.refresh_from_db()
    assert order.status == "cancelled" and coupon.status == "available"


def test_a_refund_keeps_the_coupon_spent(team_buy):
    actor, group, campaign = team_buy
    org = actor.organization
    leader, friend = _member(org, group, "团长"), _member(org, group, "朋友")
    coupon = _coupon(actor, friend)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    group_buys.team_join(actor=actor, team=team, member=friend, coupon=coupon.pk)
    order = Order.objects.for_org(org).get(member=friend)
    services.order_refund(actor=actor, order=order)
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.order_id == order.pk
    # a failing team later changes nothing for a team that filled
    group_buys.expire_teams(org, now=timezone.now() + timedelta(hours=25))
    coupon.refresh_from_db()
    assert coupon.status == "used"


@pytest.mark.parametrize("how", ["expired", "too_small", "not_theirs"])
def test_a_refused_coupon_leaves_the_team_untouched(team_buy, how):
    actor, group, campaign = team_buy
    org = actor.organization
    leader, friend = _member(org, group, "团长"), _member(org, group, "朋友")
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    if how == "expired":
        coupon = _coupon(actor, friend)
        past = timezone.now() - timedelta(days=1)
        IssuedCoupon.objects.for_org(org).filter(pk=coupon.pk).update(
            valid_from=past - timedelta(days=1), expires_at=past
        )
    elif how == "too_small":
        coupon = _coupon(actor, friend, min_spend="500")
    else:
        coupon = _coupon(actor, leader)
    with pytest.raises(services.OrderRefused) as exc:
        group_buys.team_join(actor=actor, team=team, member=friend, coupon=coupon.pk)
    assert exc.value.code == "coupon_invalid"
    team.refresh_from_db()
    assert team.status == "open"
    assert TeamMember.objects.for_org(org).filter(team=team).count() == 1
    assert not Order.objects.for_org(org).filter(member=friend).exists()
    coupon.refresh_from_db()
    assert coupon.status == "available" and coupon.order is None
    # nor is a team opened with a refused coupon
    with pytest.raises(services.OrderRefused):
        group_buys.team_open(actor=actor, campaign=campaign, member=friend, coupon=coupon.pk)
    assert Team.objects.for_org(org).filter(campaign=campaign).count() == 1


def test_the_api_takes_a_coupon_on_open_and_join(org_a, team_buy):
    actor, group, campaign = team_buy
    org = actor.organization
    leader, friend = _member(org, group, "团长"), _member(org, group, "朋友")
    mine, theirs = _coupon(actor, leader), _coupon(actor, leader)
    client = org_a.api_client()
    opened = client.post(
        f"/api/v1/campaigns/{campaign.pk}/teams/",
        {"member": leader.pk, "coupon": mine.pk},
        content_type="application/json",
    )
    assert opened.status_code == 201
    assert Order.objects.for_org(org).get(member=leader).coupon_id == mine.pk
    refused = client.post(
        f"/api/v1/teams/{opened.json()['id']}/join/",
        {"member": friend.pk, "coupon": theirs.pk},
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "coupon_invalid"
    assert len(Team.objects.for_org(org).get().members.all()) == 1
