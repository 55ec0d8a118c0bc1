"""Member pages: my coupons, redeeming points for a coupon, choosing a coupon on the flash-sale
buy form and the group-buy open and join forms (the server recomputes the price and refuses
someone else's coupon)."""

from decimal import Decimal

import pytest

from campaigns import coupons
from campaigns.models import IssuedCoupon, Order, Team
from members import services as member_services

from .conftest import make_member, page, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_yuan(org_a):
    return coupons.template_create(
        actor=org_a.actor(),
        name="5元无门槛",
        kind="amount",
        value="5",
        valid_days=30,
        points_cost=100,
    )


def test_redeem_points_for_a_coupon_then_pay_less_with_it(
    org_a, group, member, flash_sale, five_yuan
):
    member_services.points_adjust(actor=org_a.actor(), member=member, delta=150, reason="活动")
    client = signed_in(member)
    listing = client.get(page(org_a.org, "member-coupons"))
    assert listing.status_code == 200
    assert "5元无门槛" in listing.content.decode()
    response = client.post(
        page(org_a.org, "member-coupon-redeem"), {"item": five_yuan.redemption_item.pk}
    )
    assert response.status_code == 302
    coupon = IssuedCoupon.objects.for_org(org_a.org).get(member=member)
    member.refresh_from_db()
    assert member.points_balance == 50
    sale_page = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert f'value="{coupon.pk}"' in sale_page
    # a price sent by the page is ignored: the server computes it
    client.post(
        page(org_a.org, "member-buy", pk=flash_sale.pk),
        {"quantity": 1, "idempotency_key": "p1", "coupon": coupon.pk, "amount": "0.01"},
    )
    order = Order.objects.for_org(org_a.org).get(member=member)
    assert order.amount == Decimal("94") and order.coupon_id == coupon.pk
    detail = client.get(page(org_a.org, "member-order", pk=order.pk))
    assert 'data-testid="coupon-discount"' in detail.content.decode()
    # not enough points for a second one: refused, nothing taken
    client.post(page(org_a.org, "member-coupon-redeem"), {"item": five_yuan.redemption_item.pk})
    member.refresh_from_db()
    assert member.points_balance == 50
    assert IssuedCoupon.objects.for_org(org_a.org).filter(member=member).count() == 1


def test_someone_elses_coupon_is_refused_on_the_buy_form(org_a, group, member, flash_sale):
    other = make_member(org_a.org, group, "别人")
    template = coupons.template_create(
        actor=org_a.actor(), name="十元券", kind="amount", value="10", valid_days=3
    )
    theirs = coupons.coupon_issue(actor=org_a.actor(), template=template, member=other, reason="r")
    client = signed_in(member)
    response = client.post(
        page(org_a.org, "member-buy", pk=flash_sale.pk),
        {"quantity": 1, "idempotency_key": "x1", "coupon": theirs.pk},
    )
    assert response.status_code == 302
    assert not Order.objects.for_org(org_a.org).exists()
    theirs.refresh_from_db()
    assert theirs.status == "available"
    assert "十元券" not in client.get(page(org_a.org, "member-coupons")).content.decode()


def test_group_buy_open_and_join_forms_offer_coupons(org_a, group, member, group_buy, five_yuan):
    friend = make_member(org_a.org, group, "朋友")
    mine = coupons.coupon_issue(actor=org_a.actor(), template=five_yuan, member=member, reason="r")
    theirs = coupons.coupon_issue(
        actor=org_a.actor(), template=five_yuan, member=friend, reason="r"
    )
    client = signed_in(member)
    campaign_page = client.get(page(org_a.org, "member-campaign", pk=group_buy.pk))
    assert f'value="{mine.pk}"' in campaign_page.content.decode()
    client.post(
        page(org_a.org, "member-team-open", pk=group_buy.pk), {"coupon": mine.pk, "amount": "1"}
    )
    order = Order.objects.for_org(org_a.org).get(member=member)
    assert order.amount == Decimal("74") and order.coupon_id == mine.pk
    team = Team.objects.for_org(org_a.org).get(campaign=group_buy)
    friend_client = signed_in(friend)
    team_page = friend_client.get(page(org_a.org, "member-team", pk=team.pk)).content.decode()
    assert f'value="{theirs.pk}"' in team_page and f'value="{mine.pk}"' not in team_page
    # someone else's coupon is refused: the friend is not in the team
    friend_client.post(page(org_a.org, "member-team-join", pk=team.pk), {"coupon": mine.pk})
    assert not Order.objects.for_org(org_a.org).filter(member=friend).exists()
    friend_client.post(page(org_a.org, "member-team-join", pk=team.pk), {"coupon": theirs.pk})
    joined = Order.objects.for_org(org_a.org).get(member=friend)
    assert joined.amount == Decimal("74") and joined.coupon_id == theirs.pk
