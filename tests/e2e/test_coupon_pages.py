"""Coupons on a 390 px phone in zh-hans, as a member uses them: on their page they redeem
points for a coupon, then buy in a flash sale with it, and the order shows the lower price
with the coupon's line in the breakdown. Every member page visited fits the phone and reads
as Chinese words."""

import pytest
from playwright.sync_api import expect

from campaigns import coupons
from campaigns.models import CouponStatus, IssuedCoupon, Order
from members import services as member_services
from members.models import Member

from ..portal.conftest import flash_sale, group, member  # the member pages' fixtures
from .conftest import PHONE
from .test_member_pages import check_member_page, open_link

pytestmark = pytest.mark.e2e
__all__ = ["flash_sale", "group", "member"]  # fixtures


@pytest.fixture
def viewport():
    return PHONE


@pytest.fixture(autouse=True)
def links_to_the_live_server(live_server, settings):
    settings.SITE_URL = live_server.url


def test_a_member_redeems_points_for_a_coupon_and_pays_less_with_it(
    page, org_a, member, flash_sale
):
    actor = org_a.actor()
    coupons.template_create(
        actor=actor,
        name="10元无门槛券",
        kind="amount",
        value="10",
        valid_days=30,
        points_cost=100,
    )
    member_services.points_adjust(actor=actor, member=member, delta=150, reason="活动奖励")

    # their page: the coupons, and the catalogue's coupon for 100 points
    open_link(page, member, "me/")
    with page.expect_navigation():
        page.locator("[data-testid=my-coupons]").click()
    check_member_page(page)
    expect(page.locator("[data-testid=usable-coupons] [data-testid=coupon]")).to_have_count(0)
    catalogue = page.locator("[data-testid=coupon-catalogue]")
    expect(catalogue).to_contain_text("10元无门槛券")
    expect(catalogue).to_contain_text("100 积分")
    with page.expect_navigation():
        catalogue.locator("[data-testid=redeem]").click()
    check_member_page(page)
    usable = page.locator("[data-testid=usable-coupons] [data-testid=coupon]")
    expect(usable).to_have_count(1)
    expect(usable).to_contain_text("10元无门槛券")
    member.refresh_from_db()
    assert Member.objects.for_org(org_a.org).get(pk=member.pk).points_balance == 50
    coupon = IssuedCoupon.objects.for_org(org_a.org).get(member=member)

    # the flash sale: choose the coupon on the buy form
    page.goto(f"{page.url.split('/m/')[0]}/m/{org_a.org.slug}/c/{flash_sale.pk}/")
    check_member_page(page)
    expect(page.locator("[data-testid=price]")).to_have_text("¥99.00")
    page.locator("[data-testid=coupon-choice]").select_option(str(coupon.pk))
    with page.expect_navigation():
        page.locator("[data-testid=buy]").click()

    order = Order.objects.for_org(org_a.org).get(member=member)
    assert page.url.endswith(f"/m/{org_a.org.slug}/me/orders/{order.pk}/")
    check_member_page(page)
    expect(page.locator("[data-testid=coupon-discount]")).to_have_text("−¥10.00")
    expect(page.locator("[data-testid=order-amount]")).to_have_text("¥89.00")
    expect(page.locator("[data-testid=how-to-pay]")).to_contain_text("¥89.00")
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.USED and coupon.order_id == order.pk
    assert order.amount == 89 and order.coupon_discount == 10

    # the coupon is spent: back on their coupons it is under used ones
    page.goto(f"{page.url.split('/m/')[0]}/m/{org_a.org.slug}/me/coupons/")
    check_member_page(page)
    expect(page.locator("[data-testid=usable-coupons] [data-testid=coupon]")).to_have_count(0)
    expect(page.locator("[data-testid=past-coupons]")).to_contain_text("10元无门槛券")
