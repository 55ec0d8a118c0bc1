"""Coupons: templates, issuing by hand and by points, checkout (breakdown, single use, scope,
minimum spend), return on cancel or expiry but not on refund, expiry, segment perks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from campaigns import coupons, services
from campaigns.models import (
    Campaign,
    CouponEvent,
    CouponTemplate,
    IssuedCoupon,
    Order,
)
from communities import services as community_services
from communities.models import RedemptionItem, VipTier
from core.errors import Conflict
from members import services as member_services
from members.models import Member, MemberIdentity, Membership
from tenancy.actors import Actor
from tenancy.models import AuditLogEntry

from ..concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def _member(org, group, name):
    member = Member.objects.create(organization=org, display_name=name)
    identity = MemberIdentity.objects.create(
        organization=org, member=member, platform="wechat", external_user_id=f"u-{name}"
    )
    Membership.objects.create(
        organization=org, community=group, member=member, identity=identity, status="active"
    )
    return member


def _sale(actor, groups, **kw):
    now = timezone.now()
    values = {
        "name": "周五秒杀",
        "product_name": "深海鱼油",
        "price": Decimal("99"),
        "original_price": Decimal("199"),
        "stock": 10,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(hours=1),
        "communities": groups,
        "per_member_cap": 3,
        **kw,
    }
    campaign = services.flash_sale_create(actor=actor, **values)
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return campaign


def _template(actor, **kw):
    values = {"name": "满100减10", "kind": "amount", "value": "10", "valid_days": 30, **kw}
    return coupons.template_create(actor=actor, **values)


@pytest.fixture
def shop(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="福利群")
    return actor, group


def _order(actor, sale, member, key, coupon=None, quantity=1):
    order, _created = services.flash_sale_order(
        actor=actor,
        campaign=sale,
        member=member,
        quantity=quantity,
        idempotency_key=key,
        coupon=coupon,
    )
    return order


# --- templates ---------------------------------------------------------------------------------


def test_template_validation_gives_field_errors(shop):
    actor, _group = shop
    with pytest.raises(ValidationError) as exc:
        coupons.template_create(actor=actor, name="", kind="percent", value="120")
    assert set(exc.value.message_dict) >= {"name", "value", "valid_days"}
    with pytest.raises(ValidationError) as exc:
        coupons.template_create(
            actor=actor, name="x", kind="amount", value="5", valid_days=3, scope="campaigns"
        )
    assert "campaigns" in exc.value.message_dict
    assert not CouponTemplate.objects.for_org(actor.organization).exists()


def test_analyst_may_not_create_templates(org_a, shop):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _template(org_a.actor(org_a.analyst))


def test_retired_template_issues_nothing_and_pauses_its_catalogue_item(shop):
    actor, group = shop
    template = _template(actor, points_cost=100)
    assert template.redemption_item.points_cost == 100
    coupons.template_retire(actor=actor, template=template)
    template.refresh_from_db()
    assert not template.is_active and template.retired_at
    assert not RedemptionItem.objects.for_org(actor.organization).get().is_active
    with pytest.raises(Conflict):
        coupons.coupon_issue(
            actor=actor,
            template=template,
            member=_member(actor.organization, group, "甲"),
            reason="r",
        )
    assert CouponTemplate.objects.for_org(actor.organization).count() == 1  # kept, not deleted


def test_quantity_limit_and_batch_keeps_the_good_ones(shop):
    translation.activate("en")  # the refusals are read in English below
    actor, group = shop
    template = _template(actor, quantity_limit=2)
    members = [_member(actor.organization, group, f"m{i}") for i in range(3)]
    result = coupons.coupon_issue_many(
        actor=actor, template=template, members=members, reason="老客回馈"
    )
    assert len(result.issued) == 2
    assert [m for m, _msg in result.refused] == [members[2]]
    assert "given out" in result.refused[0][1]
    assert IssuedCoupon.objects.for_org(actor.organization).count() == 2
    assert (
        AuditLogEntry.objects.for_org(actor.organization)
        .filter(action="coupon.issue_many")
        .exists()
    )


def test_issue_by_hand_is_audited_with_history_and_tells_the_member(shop):
    from integrations.models import Action

    actor, group = shop
    template = _template(actor)
    member = _member(actor.organization, group, "小红")
    coupon = coupons.coupon_issue(actor=actor, template=template, member=member, reason="投诉补偿")
    assert coupon.source == "manual" and coupon.status == "available"
    assert coupon.expires_at - coupon.issued_at == timedelta(days=30)
    event = CouponEvent.objects.for_org(actor.organization).get(coupon=coupon)
    assert event.kind == "issued" and event.reason == "投诉补偿" and event.actor_label
    assert AuditLogEntry.objects.for_org(actor.organization).filter(action="coupon.issue").exists()
    notice = Action.objects.for_org(actor.organization).get(kind="member.notify")
    assert "满100减10" in notice.payload["text"]


def test_fixed_dates_limit_validity(shop):
    actor, group = shop
    until = timezone.now() + timedelta(days=3)
    template = _template(actor, valid_days=30, valid_until=until)
    coupon = coupons.coupon_issue(
        actor=actor, template=template, member=_member(actor.organization, group, "a"), reason="r"
    )
    assert coupon.expires_at == until


# --- checkout ----------------------------------------------------------------------------------


def test_order_with_a_coupon_stores_the_breakdown_and_uses_it(shop):
    actor, group = shop
    tier = VipTier.objects.create(
        organization=actor.organization, name="金卡", rank=1, discount_percent=5
    )
    sale = _sale(actor, [group], shipping_fee=Decimal("8"))
    member = _member(actor.organization, group, "买家")
    Member.objects.for_org(actor.organization).filter(pk=member.pk).update(tier=tier)
    member.refresh_from_db()
    coupon = coupons.coupon_issue(
        actor=actor, template=_template(actor, min_spend="100"), member=member, reason="r"
    )
    order = _order(actor, sale, member, "k1", coupon=coupon.pk, quantity=2)
    assert order.list_amount == Decimal("198")
    assert order.tier_discount == Decimal("9.90")
    assert order.coupon_discount == Decimal("10")
    assert order.shipping_fee == Decimal("8") and not order.shipping_waived
    assert order.amount == Decimal("186.10")  # 198 - 9.90 - 10 + 8
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.order == order
    with pytest.raises(services.OrderRefused) as exc:
        _order(actor, sale, member, "k2", coupon=coupon.pk)
    assert exc.value.code == "coupon_invalid"
    assert Order.objects.for_org(actor.organization).count() == 1
    assert Campaign.objects.for_org(actor.organization).get(pk=sale.pk).stock_left == 8


def test_coupon_refusals_leave_stock_and_coupon_alone(shop, org_b):
    translation.activate("en")  # the refusals are read in English below
    actor, group = shop
    other_group = community_services.community_create(actor=actor, name="别的群")
    sale = _sale(actor, [group])
    member = _member(actor.organization, group, "买家")
    stranger = _member(actor.organization, group, "路人")
    below = coupons.coupon_issue(
        actor=actor, template=_template(actor, min_spend="100"), member=member, reason="r"
    )
    elsewhere = coupons.coupon_issue(
        actor=actor,
        template=_template(actor, name="别群券", scope="groups", communities=[other_group]),
        member=member,
        reason="r",
    )
    theirs = coupons.coupon_issue(
        actor=actor, template=_template(actor), member=stranger, reason="r"
    )
    for coupon, words in (
        (below, "at least"),
        (elsewhere, "does not apply"),
        (theirs, "not yours"),
    ):
        with pytest.raises(services.OrderRefused) as exc:
            _order(actor, sale, member, f"k-{coupon.pk}", coupon=coupon.pk)
        assert exc.value.code == "coupon_invalid" and words in exc.value.message
    assert Campaign.objects.for_org(actor.organization).get(pk=sale.pk).stock_left == 10
    assert set(
        IssuedCoupon.objects.for_org(actor.organization).values_list("status", flat=True)
    ) == {"available"}
    # scoped to this campaign: applies
    mine = coupons.coupon_issue(
        actor=actor,
        template=_template(actor, name="本场券", scope="campaigns", campaigns=[sale]),
        member=member,
        reason="r",
    )
    assert _order(actor, sale, member, "k-ok", coupon=mine.pk).coupon_discount == Decimal("10")


def test_unpaid_cancel_and_expiry_return_the_coupon_refund_does_not(shop):
    actor, group = shop
    sale = _sale(actor, [group])
    member = _member(actor.organization, group, "买家")
    template = _template(actor, name="五元券", value="5")
    coupon = coupons.coupon_issue(actor=actor, template=template, member=member, reason="r")

    order = _order(actor, sale, member, "a", coupon=coupon.pk)
    services.order_cancel(actor=actor, order=order)
    coupon.refresh_from_db()
    assert coupon.status == "available" and coupon.order is None

    order = _order(actor, sale, member, "b", coupon=coupon.pk)
    Order.objects.for_org(actor.organization).filter(pk=order.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert services.expire_unpaid(actor.organization) == 1
    coupon.refresh_from_db()
    assert coupon.status == "available"

    order = _order(actor, sale, member, "c", coupon=coupon.pk)
    services.order_pay(actor=actor, order=order)
    services.order_refund(actor=actor, order=order)
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.order_id == order.pk
    kinds = list(
        CouponEvent.objects.for_org(actor.organization)
        .filter(coupon=coupon)
        .values_list("kind", flat=True)
    )
    assert kinds == ["issued", "used", "returned", "used", "returned", "used"]


def test_paid_then_cancelled_keeps_the_coupon_spent_and_an_expired_coupon_is_not_returned(shop):
    actor, group = shop
    sale = _sale(actor, [group])
    member = _member(actor.organization, group, "买家")
    template = _template(actor, value="5")
    paid = coupons.coupon_issue(actor=actor, template=template, member=member, reason="r")
    order = _order(actor, sale, member, "p", coupon=paid.pk)
    services.order_pay(actor=actor, order=order)
    services.order_cancel(actor=actor, order=order)
    paid.refresh_from_db()
    assert paid.status == "used"

    late = coupons.coupon_issue(actor=actor, template=template, member=member, reason="r")
    order = _order(actor, sale, member, "q", coupon=late.pk)
    IssuedCoupon.objects.for_org(actor.organization).filter(pk=late.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.order_cancel(actor=actor, order=order)
    late.refresh_from_db()
    assert late.status == "used"  # past its date: not given back
    assert coupons.expire_coupons(actor.organization) == 0  # used coupons do not expire


def test_expiry_job_marks_and_records_once(shop):
    actor, group = shop
    member = _member(actor.organization, group, "a")
    coupon = coupons.coupon_issue(actor=actor, template=_template(actor), member=member, reason="r")
    later = coupon.expires_at + timedelta(seconds=1)
    assert coupons.expire_coupons(actor.organization, now=later) == 1
    assert coupons.expire_coupons(actor.organization, now=later) == 0
    coupon.refresh_from_db()
    assert coupon.status == "expired"
    assert coupons.usable_coupons(actor.organization, member) == []


def test_segment_perk_applies_to_recently_active_members_only(shop):
    actor, group = shop
    coupons.perk_save(actor=actor, name="活跃用户9.5折", active_within_days=7, percent_off=5)
    sale = _sale(actor, [group])
    active = _member(actor.organization, group, "活跃")
    quiet = _member(actor.organization, group, "沉默")
    Membership.objects.for_org(actor.organization).filter(member=active).update(
        last_active_at=timezone.now() - timedelta(days=2)
    )
    Membership.objects.for_org(actor.organization).filter(member=quiet).update(
        last_active_at=timezone.now() - timedelta(days=20)
    )
    assert _order(actor, sale, active, "a").amount == Decimal("94.05")
    assert _order(actor, sale, quiet, "q").amount == Decimal("99")


# --- points redemption -------------------------------------------------------------------------


def test_redeeming_points_issues_the_coupon_in_the_same_transaction(shop):
    actor, group = shop
    template = _template(actor, name="5元无门槛", value="5", points_cost=100, quantity_limit=1)
    a = _member(actor.organization, group, "甲")
    b = _member(actor.organization, group, "乙")
    for m in (a, b):
        member_services.points_adjust(actor=actor, member=m, delta=300, reason="活动")
    item = template.redemption_item
    member_services.points_redeem(actor=Actor.for_member(a), member=a, item=item)
    coupon = IssuedCoupon.objects.for_org(actor.organization).get(member=a)
    assert coupon.source == "redemption" and coupon.template == template
    # the template ran out: no coupon, and no points taken
    with pytest.raises(Conflict):
        member_services.points_redeem(actor=Actor.for_member(b), member=b, item=item)
    b.refresh_from_db()
    assert b.points_balance == 300
    # a member may not redeem for someone else
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        member_services.points_redeem(actor=Actor.for_member(a), member=b, item=item)


# --- the single-use race -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_coupon_two_orders_at_once_exactly_one_wins(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="抢券群")
    first = _sale(actor, [group], name="一号")
    second = _sale(actor, [group], name="二号")
    member = _member(org_a.org, group, "双开")
    coupon = coupons.coupon_issue(
        actor=actor, template=_template(actor, value="5"), member=member, reason="r"
    )
    for attempt in range(5):
        sales = iter([first, second])

        def buy(attempt=attempt, sales=sales):
            sale = next(sales)
            return _order(actor, sale, member, f"race-{attempt}-{sale.pk}", coupon=coupon.pk)

        results = run_concurrently(buy, times=2)
        orders = [r for r in results if isinstance(r, Order)]
        refusals = [r for r in results if isinstance(r, services.OrderRefused)]
        assert len(orders) == 1 and len(refusals) == 1, results
        assert refusals[0].code == "coupon_invalid"
        coupon.refresh_from_db()
        assert coupon.status == "used" and coupon.order_id == orders[0].pk
        services.order_cancel(actor=actor, order=orders[0])  # give it back for the next round
    assert Order.objects.for_org(org_a.org).filter(coupon=coupon).count() == 5
    assert Campaign.objects.for_org(org_a.org).get(pk=first.pk).stock_left == 10


# --- cost and budget ---------------------------------------------------------------------------


def test_coupon_value_redeemed_counts_as_cost_and_against_the_budget(shop):
    from campaigns.selectors import budget_warning, campaign_review, month_spend

    actor, group = shop
    org = actor.organization
    org.monthly_campaign_budget = Decimal("150")
    org.save(update_fields=["monthly_campaign_budget"])
    sale = _sale(actor, [group], cost=Decimal("100"))
    member = _member(org, group, "买家")
    template = _template(actor, name="六十元券", value="60")
    day = sale.starts_at.astimezone(org.tzinfo).date()
    pending = _order(
        actor,
        sale,
        member,
        "k1",
        coupon=coupons.coupon_issue(actor=actor, template=template, member=member, reason="r").pk,
    )
    assert month_spend(org, day)["spent"] == Decimal("100")  # not paid yet: not redeemed
    assert budget_warning(org, sale.starts_at) is None
    services.order_pay(actor=actor, order=pending)
    spend = month_spend(org, day)
    assert spend["coupons"] == Decimal("60") and spend["spent"] == Decimal("160")
    assert budget_warning(org, sale.starts_at)["left"] == Decimal("-10")
    rows = {row["key"]: row["value"] for row in campaign_review(sale)["rows"]}
    assert rows["coupon_cost"] == Decimal("60") and rows["cost"] == Decimal("160")
    services.order_refund(actor=actor, order=pending)  # refunded: no longer redeemed
    assert month_spend(org, day)["spent"] == Decimal("100")


def test_api_order_takes_a_coupon_and_answers_with_the_breakdown(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group])
    member = _member(org_a.org, group, "接口买家")
    coupon = coupons.coupon_issue(
        actor=actor,
        template=_template(actor, name="八折", kind="percent", value="20"),
        member=member,
        reason="r",
    )
    client = org_a.api_client()
    url = f"/api/v1/campaigns/{sale.pk}/orders/"
    body = {"member": member.pk, "quantity": 1, "coupon": coupon.pk}
    response = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["amount"] == "79.20" and data["coupon_discount"] == "19.80"
    assert data["list_amount"] == "99.00" and data["coupon"] == coupon.pk
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a2")
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_invalid"
