"""Campaign state changes: building and publishing flash sales, ordering (never oversell,
never exceed a cap, idempotent), paying, cancelling, refunding and expiring orders."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from communities import content
from communities.models import ContentType, VipTier
from core.errors import Conflict
from core.formatting import money
from integrations.composer import MessageKind, compose
from members.access import public_page_url
from members.hooks import PrivacySection
from members.models import PRESENT_STATUSES, Member, Membership
from tenancy import audit
from tenancy.permissions import can, require, require_for

from . import coupons, stock_gate
from .models import (
    BOUGHT,
    HOLDING,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    Order,
    OrderStatus,
    Product,
)


class OrderRefused(Exception):
    """A flash-sale order that cannot be placed: `code` is one of sold_out, cap_exceeded,
    not_live, not_eligible, idempotency_conflict."""

    holding = None  # cap_exceeded from the database: the member's units held, for the gate

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# --- building ----------------------------------------------------------------------------------


def flash_sale_create(
    *,
    actor,
    name: str,
    product_name: str,
    price: Decimal,
    original_price: Decimal,
    stock: int,
    starts_at: datetime,
    ends_at: datetime,
    communities,
    per_member_cap: int = 1,
    min_tier: VipTier | None = None,
    payment_minutes: int = 15,
    cost: Decimal = Decimal("0"),
    shipping_fee: Decimal = Decimal("0"),
) -> Campaign:
    communities = list(communities)
    if not communities:
        raise ValidationError({"communities": [_("Choose at least one group.")]})
    for community in communities:
        require(actor, "campaign.manage", community)
    errors = {}
    if not (name or "").strip() or len(name) > 120:
        errors["name"] = [_("Enter a name of at most 120 characters.")]
    if not (product_name or "").strip() or len(product_name) > 120:
        errors["product_name"] = [_("Enter the product's name.")]
    if price is None or price < 0 or original_price is None or original_price < price:
        errors["price"] = [_("The sale price must be at least 0 and at most the original price.")]
    if not isinstance(stock, int) or not 1 <= stock <= 1_000_000:
        errors["stock"] = [_("Give between 1 and 1,000,000 units.")]
    if not starts_at or not ends_at or ends_at <= starts_at:
        errors["ends_at"] = [_("The sale must end after it starts.")]
    if not isinstance(per_member_cap, int) or not 1 <= per_member_cap <= 1000:
        errors["per_member_cap"] = [_("Give a cap from 1 to 1000.")]
    if shipping_fee is None or not Decimal(0) <= Decimal(shipping_fee) <= Decimal(1000):
        errors["shipping_fee"] = [_("Give a shipping fee from 0 to 1000.")]
    if min_tier is not None and min_tier.organization_id != actor.organization.pk:
        errors["min_tier"] = [_("That object belongs to another organization.")]
    if errors:
        raise ValidationError(errors)
    org = actor.organization
    with transaction.atomic():
        product = Product.objects.create(
            organization=org, name=product_name.strip(), price=original_price
        )
        campaign = Campaign.objects.create(
            organization=org,
            kind=CampaignKind.FLASH_SALE,
            name=name.strip(),
            product=product,
            starts_at=starts_at,
            ends_at=ends_at,
            price=price,
            original_price=original_price,
            stock_total=stock,
            stock_left=stock,
            per_member_cap=per_member_cap,
            min_tier=min_tier,
            payment_minutes=payment_minutes,
            cost=cost or Decimal("0"),
            shipping_fee=shipping_fee or Decimal("0"),
            created_by=actor.user,
        )
        CampaignTarget.objects.bulk_create(
            [CampaignTarget(organization=org, campaign=campaign, community=c) for c in communities]
        )
        audit.record(
            actor=actor, action="campaign.create", obj=campaign, summary=f"{stock} × {money(price)}"
        )
    return campaign


def campaign_publish(*, actor, campaign) -> Campaign:
    """Draft → scheduled, with announcements in the content calendar: a preview the day before
    (when there is still time) and one at the start, in every target group."""
    targets = campaign_targets(campaign)
    for community in targets:
        require(actor, "campaign.manage", community)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(_("Only a draft can be published."))
    if campaign.ends_at <= timezone.now():
        raise Conflict(_("This sale's window is already over."))
    now = timezone.now()
    with transaction.atomic():
        campaign.status = CampaignStatus.SCHEDULED
        campaign.save(update_fields=["status"])
        org = campaign.organization
        context = {
            "campaign_kind": campaign.kind,
            "when": campaign.starts_at.astimezone(org.tzinfo).strftime("%m-%d %H:%M"),
            "name": campaign.name,
            "stock": campaign.stock_total,
            "price": campaign.price,
            "original_price": campaign.original_price,
            "team_size": campaign.team_size,
            "public_link": public_page_url(org, f"c/{campaign.pk}/"),
        }
        language = org.default_language
        posts = (
            (campaign.starts_at - timedelta(days=1), MessageKind.CAMPAIGN_PREVIEW),
            (campaign.starts_at, MessageKind.CAMPAIGN_START),
        )
        for community in targets:
            for at, message_kind in posts:
                if at > now:
                    content.post_create(
                        actor=actor,
                        community=community,
                        scheduled_at=at,
                        text=compose(
                            message_kind,
                            context,
                            language=language,
                            org=org,
                            community_id=community.pk,
                        ),
                        content_type=ContentType.DEAL_PREVIEW,
                    )
        audit.record(actor=actor, action="campaign.publish", obj=campaign)
    return campaign


def campaign_cancel(*, actor, campaign) -> Campaign:
    for community in campaign_targets(campaign):
        require(actor, "campaign.manage", community)
    if campaign.status == CampaignStatus.CANCELLED:
        raise Conflict(_("This campaign is already cancelled."))
    with transaction.atomic():
        campaign.status = CampaignStatus.CANCELLED
        campaign.save(update_fields=["status"])
        audit.record(actor=actor, action="campaign.cancel", obj=campaign)
        transaction.on_commit(partial(stock_gate.forget, campaign))
    return campaign


def campaign_targets(campaign):
    return [
        t.community
        for t in CampaignTarget.objects.for_org(campaign.organization)
        .filter(campaign=campaign)
        .select_related("community")
    ]


# --- ordering ------------------------------------------------------------------------------


def _fingerprint(campaign, member, quantity, coupon_id=None) -> str:
    parts = [campaign.pk, member.pk, quantity] + ([coupon_id] if coupon_id else [])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def flash_sale_order(
    *, actor, campaign, member, quantity: int, idempotency_key: str, coupon=None
) -> tuple[Order, bool]:
    """Place an order. Returns (order, created). The same Idempotency-Key returns the same order;
    with other parameters it is refused. Never oversells: the stock is taken with a conditional
    UPDATE; never exceeds the cap: the member's row is locked while their orders are counted.

    While the sale is live the stock gate (stock_gate.py) answers first, from Redis: sold out
    and over the cap without a database query; the units it lets through go on to the database,
    and back to the gate if the database does not place the order.

    The server computes the price (campaigns/pricing.py: VIP discount, segment perk, then
    `coupon`, one of the member's coupons, an IssuedCoupon or its id) and stores the breakdown
    on the order; the coupon is used in the order's transaction (single-use)."""
    require_for(actor, "order.manage", member)
    coupon_id = coupon_id_of(coupon)
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise ValidationError(
            {"idempotency_key": [_("Send an Idempotency-Key header (1–100 characters).")]}
        )
    if not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": [_("Order at least one unit.")]})
    ticket = None
    if campaign.kind == CampaignKind.FLASH_SALE and campaign.phase() == "live":
        ticket = stock_gate.take(campaign, member, quantity, key)
        if ticket == "sold_out":
            raise _sold_out()
        if ticket == "cap_exceeded":
            raise _cap_exceeded(campaign)
    try:
        order, created = _place_order(
            campaign, member, quantity, key, coupon_id, actor, new_key=ticket is not None
        )
    except OrderRefused as exc:
        if ticket is not None:
            left = _stock_left(campaign) if exc.code == "sold_out" else None
            stock_gate.give_back(ticket, stock_left=left, holding=getattr(exc, "holding", None))
        raise
    except BaseException:
        if ticket is not None:
            stock_gate.give_back(ticket)
        raise
    if ticket is not None and not created:  # answered as before: that order holds its units
        stock_gate.give_back(ticket, keep_key=True)
    return order, created


def _sold_out() -> OrderRefused:
    return OrderRefused("sold_out", _("Sold out."))


def _cap_exceeded(campaign) -> OrderRefused:
    return OrderRefused(
        "cap_exceeded",
        _("At most %(n)s per member in this sale.") % {"n": campaign.per_member_cap},
    )


def _stock_left(campaign) -> int:
    return (
        Campaign.objects.for_org(campaign.organization_id)
        .filter(pk=campaign.pk)
        .values_list("stock_left", flat=True)
        .get()
    )


def _place_order(
    campaign, member, quantity, key, coupon_id, actor, *, new_key=False
) -> tuple[Order, bool]:
    """The database path: PostgreSQL decides (with or without the gate in front). `new_key`:
    the gate let the Idempotency-Key through as one it has not seen, so only the check under
    the member's lock looks for a replay."""
    fingerprint = _fingerprint(campaign, member, quantity, coupon_id)
    replay = None if new_key else _replay(campaign, key, fingerprint)
    if replay is not None:
        return replay, False
    org = campaign.organization
    now = timezone.now()
    if campaign.kind != CampaignKind.FLASH_SALE or campaign.phase(now) != "live":
        raise OrderRefused("not_live", _("This sale is not open now."))
    community_id = check_eligible(campaign, member)
    try:
        with transaction.atomic():
            locked = Member.objects.for_org(org).select_for_update(no_key=True).get(pk=member.pk)
            replay = _replay(campaign, key, fingerprint)  # the same key may have won meanwhile
            if replay is not None:
                return replay, False
            holding = (
                Order.objects.for_org(org)
                .filter(campaign=campaign, member=member, status__in=HOLDING)
                .aggregate(n=Sum("quantity"))["n"]
                or 0
            )
            if holding + quantity > campaign.per_member_cap:
                refusal = _cap_exceeded(campaign)
                refusal.holding = holding  # for the gate
                raise refusal
            price, coupon = priced(campaign, locked, quantity, coupon_id, now)
            taken = (
                Campaign.objects.for_org(org)
                .filter(pk=campaign.pk, stock_left__gte=quantity)
                .update(stock_left=F("stock_left") - quantity)
            )
            if not taken:
                raise _sold_out()
            order = Order.objects.create(
                organization=org,
                external_order_id=f"qy-{uuid.uuid4().hex}",
                member=member,
                community_id=community_id,
                campaign=campaign,
                **price,
                quantity=quantity,
                status=OrderStatus.PENDING_PAYMENT,
                placed_at=now,
                expires_at=now + timedelta(minutes=campaign.payment_minutes),
                idempotency_key=key,
                request_fingerprint=fingerprint,
                items=[
                    {
                        "name": campaign.product.name,
                        "quantity": quantity,
                        "price": str(campaign.price),
                    }
                ],
            )
            if coupon is not None:
                coupons.coupon_use(coupon, order, now, actor.label)
            Campaign.objects.for_org(org).filter(
                pk=campaign.pk, stock_left=0, sold_out_at=None
            ).update(sold_out_at=now)
    except IntegrityError:
        # The same key raced us and won: answer as it was answered.
        replay = _replay(campaign, key, fingerprint)
        if replay is None:
            raise
        return replay, False
    return order, True


def coupon_id_of(coupon) -> int | None:
    """The id of the coupon an order names (an IssuedCoupon or its id), or None."""
    coupon_id = getattr(coupon, "pk", coupon)
    if coupon_id is not None and (isinstance(coupon_id, bool) or not isinstance(coupon_id, int)):
        raise ValidationError({"coupon": [_("Choose one of your coupons.")]})
    return coupon_id


def priced(campaign, member, quantity, coupon_id, now) -> tuple[dict, object]:
    """The price of a campaign order (docs/coupons.md), in the order's transaction with the
    member's row locked: (the Order fields of the breakdown, the coupon or None). A coupon
    that may not be used, or would be spent for nothing, is refused (`coupon_invalid`); the
    caller marks it used (`coupons.coupon_use`) once the order exists."""
    org = campaign.organization
    coupon = (
        coupons.checkable_coupon(org, member, coupon_id, campaign, now)
        if coupon_id is not None
        else None
    )
    breakdown, perk = coupons.quote(campaign, member, quantity, coupon, now)
    if coupon is not None:
        _check_coupon_gives(breakdown, coupon)
    fields = {
        "amount": breakdown.amount,
        "list_amount": breakdown.list_amount,
        "tier_discount": breakdown.tier_discount,
        "perk_discount": breakdown.perk_discount,
        "coupon_discount": breakdown.coupon_discount,
        "shipping_fee": breakdown.shipping_fee,
        "shipping_waived": breakdown.shipping_waived,
        "perk": perk,
        "coupon": coupon,
    }
    return fields, coupon


def _check_coupon_gives(breakdown, coupon) -> None:
    """Refuse a coupon that would be spent for nothing: below its minimum spend, or taking
    nothing off this order (a free-shipping coupon on an order that ships free anyway)."""
    terms = coupon.template
    if breakdown.coupon_below_minimum:
        raise OrderRefused(
            "coupon_invalid",
            _("This coupon needs an order of at least %(min)s.") % {"min": money(terms.min_spend)},
        )
    if breakdown.coupon_discount == 0 and not (terms.free_shipping and breakdown.shipping_waived):
        raise OrderRefused("coupon_invalid", _("This coupon takes nothing off this order."))


def _replay(campaign, key, fingerprint):
    existing = (
        Order.objects.for_org(campaign.organization)
        .filter(campaign=campaign, idempotency_key=key)
        .first()
    )
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise OrderRefused(
            "idempotency_conflict", _("This Idempotency-Key was used with other parameters.")
        )
    return existing


def check_eligible(campaign, member) -> int:
    """Refuse members outside the sale's groups or below its tier. Returns the group the order
    is credited to in the metrics: the member's first (oldest) group among the targets."""
    org = campaign.organization
    community_id = (
        Membership.objects.for_org(org)
        .filter(
            member=member,
            status__in=PRESENT_STATUSES,
            community_id__in=CampaignTarget.objects.for_org(org)
            .filter(campaign=campaign)
            .values("community_id"),
        )
        .order_by("community_id")
        .values_list("community_id", flat=True)
        .first()
    )
    if community_id is None:
        raise OrderRefused("not_eligible", _("Only members of the sale's groups may buy."))
    if campaign.min_tier is not None and (
        member.tier is None or member.tier.rank < campaign.min_tier.rank
    ):
        raise OrderRefused(
            "not_eligible",
            _("This sale is for %(tier)s and above.") % {"tier": campaign.min_tier.name},
        )
    return community_id


# --- after the order -------------------------------------------------------------------------


def _order_change(actor, order, allowed, to_status, release: bool, field: str | None) -> Order:
    require(actor, "order.manage")
    org = actor.organization
    with transaction.atomic():
        locked = Order.objects.for_org(org).select_for_update().get(pk=order.pk)
        if locked.status not in allowed:
            raise Conflict(
                _("This order is %(status)s; it cannot be changed that way.")
                % {"status": locked.get_status_display()}
            )
        now = timezone.now()
        was = locked.status
        locked.status = to_status
        fields = ["status"]
        if field:
            setattr(locked, field, now)
            fields.append(field)
        locked.save(update_fields=fields)
        if release and _returns_stock(locked, now):
            Campaign.objects.for_org(org).filter(pk=locked.campaign_id).update(
                stock_left=F("stock_left") + locked.quantity
            )
            transaction.on_commit(partial(stock_gate.released, [locked]))
        if to_status == OrderStatus.CANCELLED and was == OrderStatus.PENDING_PAYMENT:
            # cancelled unpaid: the coupon comes back while valid; after payment (a cancel
            # with the money returned) it is spent, as for a refund (docs/coupons.md)
            coupons.coupon_return(locked, now, actor.label, _("order cancelled"))
        audit.record(
            actor=actor, action=f"order.{to_status}", obj=locked, summary=locked.external_order_id
        )
    return locked


def _returns_stock(order, now) -> bool:
    """Units go back to a sale only if the order took them (flash-sale orders do: a conditional
    UPDATE of stock_left; group-buy orders do not) and only while the sale is live."""
    campaign = order.campaign
    return (
        campaign is not None
        and campaign.kind == CampaignKind.FLASH_SALE
        and campaign.phase(now) == "live"
    )


def order_pay(*, actor, order) -> Order:
    return _order_change(
        actor, order, [OrderStatus.PENDING_PAYMENT], OrderStatus.PAID, False, "paid_at"
    )


def order_cancel(*, actor, order) -> Order:
    """Cancel an unpaid or paid order; its units return to the sale while it is live."""
    return _order_change(
        actor,
        order,
        [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID],
        OrderStatus.CANCELLED,
        True,
        "cancelled_at",
    )


def order_refund(*, actor, order) -> Order:
    return _order_change(
        actor, order, [OrderStatus.PAID], OrderStatus.REFUNDED, True, "refunded_at"
    )


def expire_unpaid(org, now=None) -> int:
    """Unpaid orders past their payment window expire and give their units back (a guarded
    transition per order, so two runs never release the same units twice)."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                Order.objects.for_org(org)
                .filter(status=OrderStatus.PENDING_PAYMENT, expires_at__lt=now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("campaign")[:500]
            )
            if not batch:
                return expired
            Order.objects.for_org(org).filter(pk__in=[o.pk for o in batch]).update(
                status=OrderStatus.EXPIRED
            )
            for order in batch:
                if order.coupon_id:
                    coupons.coupon_return(
                        order, now, _("payment window"), _("unpaid order expired")
                    )
            returned = [order for order in batch if _returns_stock(order, now)]
            for order in returned:
                Campaign.objects.for_org(org).filter(pk=order.campaign_id).update(
                    stock_left=F("stock_left") + order.quantity
                )
            if returned:
                transaction.on_commit(partial(stock_gate.released, returned))
            expired += len(batch)


def can_manage_campaign(actor, campaign) -> bool:
    return all(can(actor, "campaign.manage", c) for c in campaign_targets(campaign))


def orders_move_to(*, org, from_member, to_member) -> int:
    """A merged member's orders belong to the surviving member (registered on
    `members.hooks.member_merged`)."""
    return Order.objects.for_org(org).filter(member=from_member).update(member=to_member)


def privacy_sections(*, org, member) -> list:
    """A member's orders, for their data export (registered on `members.hooks`)."""
    fields = [
        "id",
        "external_order_id",
        "community_id",
        "campaign_id",
        "amount",
        "quantity",
        "items",
        "status",
        "placed_at",
        "paid_at",
        "cancelled_at",
        "refunded_at",
        "points_awarded",
    ]
    orders = Order.objects.for_org(org).filter(member=member)
    return [PrivacySection("orders", orders, fields)]


def tier_stats() -> dict:
    """What VIP tier conditions read from orders: paid orders and spend per member (registered
    on `members.hooks.tier_stats`)."""
    bought = Q(orders__status__in=BOUGHT)
    return {
        "paid_orders": Count("orders", filter=bought, distinct=True),
        "spend": Sum("orders__amount", filter=bought),
    }
