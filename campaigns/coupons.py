"""Coupons (docs/coupons.md): templates per organization, coupons issued to one member each,
single-use, expiring, with their history; the issuing paths (points redemption, newcomers,
the wake-up, staff by hand, the photo reward) and checkout's use and return of a coupon.
Every change to a template or a coupon is a function here; nothing is deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.services import redemption_item_save
from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.access import personal_links
from members.models import PRESENT_STATUSES, Member, Membership
from members.selectors import address, addressees
from tenancy import audit
from tenancy.permissions import can, require

from . import pricing
from .models import (
    CampaignTarget,
    CouponEvent,
    CouponEventKind,
    CouponScope,
    CouponSettings,
    CouponSource,
    CouponStatus,
    CouponTemplate,
    CouponTemplateTarget,
    IssuedCoupon,
    SegmentPerk,
)

MAX_VALIDITY_DAYS = 366 * 2
BATCH_LIMIT = 5000  # members one hand-issue may reach


class CouponRefused(Exception):
    """A coupon that cannot be issued: the template is retired, ran out, or its dates are over."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- templates ---------------------------------------------------------------------------------


def _decimal(value, field, errors, *, minimum=Decimal("0"), maximum=Decimal("100000")):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or number < minimum or number > maximum:
        errors[field] = [
            _("Give a number between %(min)s and %(max)s.") % {"min": minimum, "max": maximum}
        ]
        return None
    return pricing.fen(number)


def template_create(
    *,
    actor,
    name: str,
    kind: str,
    value,
    max_off=None,
    min_spend=None,
    free_shipping: bool = False,
    valid_days: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    scope: str = CouponScope.ALL,
    campaigns=(),
    communities=(),
    quantity_limit: int | None = None,
    points_cost: int | None = None,
) -> CouponTemplate:
    """A coupon template. `points_cost` puts it in the points catalogue: a catalogue item of
    that many points that issues this coupon when a member redeems it."""
    require(actor, "campaign.manage")
    org = actor.organization
    errors: dict = {}
    name = (name or "").strip()
    if not name or len(name) > 60:
        errors["name"] = [_("Enter a name of at most 60 characters.")]
    if kind not in ("amount", "percent"):
        errors["kind"] = [_("Choose amount off or percent off.")]
    value = _decimal(value, "value", errors) or Decimal("0")
    max_off = _decimal(max_off, "max_off", errors)
    min_spend = _decimal(min_spend, "min_spend", errors) or Decimal("0")
    if kind == "percent" and not (1 <= value <= 100) and "value" not in errors:
        errors["value"] = [_("A percentage is between 1 and 100.")]
    if kind == "amount" and value == 0 and not free_shipping and "value" not in errors:
        errors["value"] = [_("Give the amount off, or make it a free-shipping coupon.")]
    if kind == "amount" and max_off is not None:
        max_off = None  # a cap means nothing for an amount off
    if valid_days is not None and not (1 <= int(valid_days) <= MAX_VALIDITY_DAYS):
        errors["valid_days"] = [_("Give between 1 and 732 days.")]
    if valid_days is None and valid_until is None:
        errors["valid_days"] = [_("Give the days it is valid after issue, or an end date.")]
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = [_("The end must be after the start.")]
    if valid_until is not None and valid_until <= timezone.now():
        errors["valid_until"] = [_("The end date is already past.")]
    if quantity_limit is not None and not (1 <= int(quantity_limit) <= 10_000_000):
        errors["quantity_limit"] = [_("Give between 1 and 10,000,000.")]
    if points_cost is not None and not (1 <= int(points_cost) <= 10_000_000):
        errors["points_cost"] = [_("Give between 1 and 10,000,000 points.")]
    campaigns, communities = list(campaigns or []), list(communities or [])
    if scope not in CouponScope.values:
        errors["scope"] = [_("Choose where it applies.")]
    elif scope == CouponScope.CAMPAIGNS and not campaigns:
        errors["campaigns"] = [_("Choose at least one campaign.")]
    elif scope == CouponScope.GROUPS and not communities:
        errors["communities"] = [_("Choose at least one group.")]
    if any(c.organization_id != org.pk for c in [*campaigns, *communities]):
        raise ValidationError({"scope": [_("Choose where it applies.")]})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        template = CouponTemplate.objects.create(
            organization=org,
            name=name,
            kind=kind,
            value=value,
            max_off=max_off,
            min_spend=min_spend,
            free_shipping=bool(free_shipping),
            valid_days=valid_days,
            valid_from=valid_from,
            valid_until=valid_until,
            scope=scope,
            quantity_limit=quantity_limit,
            created_by=actor.user,
        )
        targets = []
        if scope == CouponScope.CAMPAIGNS:
            targets = [
                CouponTemplateTarget(organization=org, template=template, campaign=c)
                for c in campaigns
            ]
        elif scope == CouponScope.GROUPS:
            targets = [
                CouponTemplateTarget(organization=org, template=template, community=c)
                for c in communities
            ]
        CouponTemplateTarget.objects.bulk_create(targets)
        if points_cost is not None:
            template.redemption_item = redemption_item_save(
                actor=actor,
                name=name,
                points_cost=int(points_cost),
                description=_("A coupon"),
                stock=None,
                is_active=True,
            )
            template.save(update_fields=["redemption_item"])
        audit.record(actor=actor, action="coupon.template_create", obj=template, summary=name)
    return template


def template_retire(*, actor, template) -> CouponTemplate:
    """No more coupons of this template are issued (by any path); those issued stay valid.
    Its points catalogue item is paused."""
    require(actor, "campaign.manage")
    with transaction.atomic():
        locked = (
            CouponTemplate.objects.for_org(actor.organization)
            .select_for_update()
            .get(pk=template.pk)
        )
        if not locked.is_active:
            raise Conflict(_("This coupon is already retired."))
        locked.is_active, locked.retired_at = False, timezone.now()
        locked.save(update_fields=["is_active", "retired_at"])
        if locked.redemption_item_id:
            item = locked.redemption_item
            if item.is_active:
                redemption_item_save(actor=actor, item=item, is_active=False)
        audit.record(actor=actor, action="coupon.template_retire", obj=locked)
    return locked


TERMS = (
    "name",
    "kind",
    "value",
    "max_off",
    "min_spend",
    "free_shipping",
    "valid_days",
    "valid_from",
    "valid_until",
    "scope",
    "campaigns",
    "communities",
    "quantity_limit",
    "points_cost",
)


def template_replace(*, actor, template, **terms) -> CouponTemplate:
    """Change an offer: a template's terms never change once saved (issued coupons read them),
    so "editing" saves a new template with the new terms and retires the old one (its coupons
    stay valid). The automatic paths (newcomer, wake-up, photo reward) that issued the old one
    issue the new one from now on. In one transaction: a refused new template changes nothing."""
    require(actor, "campaign.manage")
    org = actor.organization
    unknown = set(terms) - set(TERMS)
    if unknown:
        raise TypeError(f"unknown terms: {sorted(unknown)}")
    with transaction.atomic():
        old = CouponTemplate.objects.for_org(org).select_for_update().get(pk=template.pk)
        new = template_create(actor=actor, **terms)
        if old.is_active:
            template_retire(actor=actor, template=old)
        current = CouponSettings.objects.for_org(org).filter(organization=org).first()
        if current is not None:
            changed = []
            for field in ("newcomer_template", "wake_up_template", "showcase_template"):
                if getattr(current, f"{field}_id") == old.pk:
                    setattr(current, field, new)
                    changed.append(field)
            if changed:
                current.save(update_fields=changed)
        audit.record(
            actor=actor,
            action="coupon.template_replace",
            obj=new,
            summary=f"{old.name} → {new.name}",
        )
    return new


def settings_for(org) -> CouponSettings:
    return CouponSettings.objects.for_org(org).filter(organization=org).first() or CouponSettings(
        organization=org
    )


def settings_save(
    *, actor, newcomer_template=None, wake_up_template=None, showcase_template=None, showcase_days=7
) -> CouponSettings:
    """Which template each automatic path issues (None turns the path off)."""
    require(actor, "campaign.manage")
    org = actor.organization
    for field, template in (
        ("newcomer_template", newcomer_template),
        ("wake_up_template", wake_up_template),
        ("showcase_template", showcase_template),
    ):
        if template is not None and (template.organization_id != org.pk or not template.is_active):
            raise ValidationError({field: [_("Choose an active coupon.")]})
    if not isinstance(showcase_days, int) or not 2 <= showcase_days <= 30:
        raise ValidationError({"showcase_days": [_("Give between 2 and 30 days.")]})
    with transaction.atomic():
        current = settings_for(org)
        current.newcomer_template = newcomer_template
        current.wake_up_template = wake_up_template
        current.showcase_template = showcase_template
        current.showcase_days = showcase_days
        current.save()
        audit.record(actor=actor, action="coupon.settings", obj=current)
    return current


# --- issuing -----------------------------------------------------------------------------------


def _validity(template, now) -> tuple[datetime, datetime]:
    start = max(now, template.valid_from) if template.valid_from else now
    ends = [d for d in (template.valid_until,) if d]
    if template.valid_days:
        ends.append(start + timedelta(days=template.valid_days))
    return start, min(ends)


def _take_one(org, template) -> None:
    """Count one more coupon of the template, within its limit (a guarded UPDATE)."""
    taken = (
        CouponTemplate.objects.for_org(org)
        .filter(pk=template.pk, is_active=True)
        .filter(Q(quantity_limit=None) | Q(issued_count__lt=F("quantity_limit")))
        .update(issued_count=F("issued_count") + 1)
    )
    if not taken:
        if not CouponTemplate.objects.for_org(org).filter(pk=template.pk, is_active=True).exists():
            raise CouponRefused(_("This coupon is retired."))
        raise CouponRefused(_("All coupons of this kind have been given out."))


def _issue(
    org, template, member, source, *, actor_label: str, reason: str = "", now=None
) -> IssuedCoupon:
    """One coupon to one member, with its history's first line. The caller's transaction."""
    now = now or timezone.now()
    if not template.is_active:
        raise CouponRefused(_("This coupon is retired."))
    start, expires = _validity(template, now)
    if expires <= now or expires <= start:
        raise CouponRefused(_("This coupon's dates are over."))
    with transaction.atomic():
        _take_one(org, template)
        coupon = IssuedCoupon.objects.create(
            organization=org,
            template=template,
            member=member,
            source=source,
            issued_at=now,
            valid_from=start,
            expires_at=expires,
        )
        _history(coupon, CouponEventKind.ISSUED, now, actor_label, reason=reason)
    return coupon


def _history(coupon, kind, at, actor_label, *, order=None, reason="") -> CouponEvent:
    return CouponEvent.objects.create(
        organization_id=coupon.organization_id,
        coupon=coupon,
        kind=kind,
        at=at,
        actor_label=str(actor_label)[:200],
        order=order,
        reason=str(reason)[:200],
    )


def may_issue(actor, member) -> bool:
    """Staff issue by hand with `campaign.manage` org-wide, or in a group the member is in
    (a group's benefits officer, 福利官)."""
    if can(actor, "campaign.manage"):
        return True
    groups = Membership.objects.for_org(actor.organization).filter(
        member=member, status__in=PRESENT_STATUSES
    )
    return any(
        can(actor, "campaign.manage", m.community) for m in groups.select_related("community")
    )


def coupon_issue(*, actor, template, member, reason: str) -> IssuedCoupon:
    """Staff give one member a coupon by hand (audited, and the member is told)."""
    if not may_issue(actor, member):
        require(actor, "campaign.manage")
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError({"reason": [_("Say why (at most 200 characters).")]})
    if (
        template.organization_id != actor.organization.pk
        or member.organization_id != actor.organization.pk
    ):
        raise ValidationError({"template": [_("Choose an active coupon.")]})
    try:
        with transaction.atomic():
            coupon = _issue(
                actor.organization,
                template,
                member,
                CouponSource.MANUAL,
                actor_label=actor.label,
                reason=reason,
            )
            audit.record(
                actor=actor,
                action="coupon.issue",
                obj=coupon,
                summary=f"{template.name} → {member} ({reason})",
            )
            tell_granted([coupon], CouponSource.MANUAL)
    except CouponRefused as refused:
        raise Conflict(refused.message) from None
    return coupon


@dataclass
class BatchResult:
    issued: list
    refused: list  # [(member, message)]


def coupon_issue_many(*, actor, template, members, reason: str) -> BatchResult:
    """The same coupon to many members (a filtered list): each member's coupon is issued on its
    own, so those that can be issued are kept and the rest are reported with the reason (the
    template ran out, or the actor may not issue to that member)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError({"reason": [_("Say why (at most 200 characters).")]})
    members = list(members)
    if len(members) > BATCH_LIMIT:
        raise ValidationError(
            {"members": [_("At most %(n)s members at once.") % {"n": BATCH_LIMIT}]}
        )
    org = actor.organization
    if template.organization_id != org.pk:
        raise ValidationError({"template": [_("Choose an active coupon.")]})
    result = BatchResult([], [])
    for member in members:
        if not may_issue(actor, member):
            result.refused.append((member, _("You may not give this member coupons.")))
            continue
        try:
            with transaction.atomic():
                result.issued.append(
                    _issue(
                        org,
                        template,
                        member,
                        CouponSource.MANUAL,
                        actor_label=actor.label,
                        reason=reason,
                    )
                )
        except CouponRefused as refused:
            result.refused.append((member, refused.message))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="coupon.issue_many",
            obj=template,
            summary=_("%(issued)s issued, %(refused)s not: %(reason)s")
            % {"issued": len(result.issued), "refused": len(result.refused), "reason": reason},
        )
        tell_granted(result.issued, CouponSource.MANUAL)
    return result


def on_points_redeemed(*, org, actor, member, item) -> None:
    """A catalogue item that names a coupon template issues it (registered on
    `members.hooks.points_redeemed`, inside the redemption's transaction: no coupon, no
    redemption)."""
    template = CouponTemplate.objects.for_org(org).filter(redemption_item=item).first()
    if template is None:
        return
    try:
        _issue(
            org,
            template,
            member,
            CouponSource.REDEMPTION,
            actor_label=actor.label,
            reason=_("%(n)s points") % {"n": item.points_cost},
        )
    except CouponRefused as refused:
        raise Conflict(refused.message) from None


def newcomer_coupons(org, joins: list[tuple[int, datetime]], actor_label: str) -> list:
    """Newcomer coupons for members joining their first group of the organization: `joins`
    are (member id, joined at) of members with no membership before. Once per member per
    organization, ever: a unique index (coupon_newcomer_once) decides, so a rejoin, a second
    group or a race issue nothing more."""
    template = settings_for(org).newcomer_template
    if template is None or not template.is_active or not joins:
        return []
    have = set(
        IssuedCoupon.objects.for_org(org)
        .filter(source=CouponSource.NEWCOMER, member_id__in=[m for m, _at in joins])
        .values_list("member_id", flat=True)
    )
    members = Member.objects.for_org(org).in_bulk([m for m, _at in joins if m not in have])
    issued = []
    for member_id, at in joins:
        if member_id in have or member_id not in members:
            continue
        try:
            with transaction.atomic():
                issued.append(
                    _issue(
                        org,
                        template,
                        members[member_id],
                        CouponSource.NEWCOMER,
                        actor_label=actor_label,
                        reason=_("joined the first group"),
                        now=max(at, timezone.now()),
                    )
                )
        except (CouponRefused, IntegrityError):
            pass  # ran out, retired, or another batch issued it first
        have.add(member_id)
    tell_granted(issued, CouponSource.NEWCOMER)
    return issued


def wake_up_offers(*, org, memberships, now) -> dict:
    """The coupon each dormant member's wake-up offers (registered on
    `members.hooks.wake_up_offers`): the org's wake-up template, issued now. A member who still
    holds an unused one of that template is offered that one rather than a second. Members the
    template can no longer reach (ran out, retired, dates over) get no coupon: their wake-up
    carries the group's offer text or none."""
    template = settings_for(org).wake_up_template
    if template is None or not template.is_active:
        return {}
    held = {
        c.member_id: c
        for c in IssuedCoupon.objects.for_org(org)
        .filter(
            template=template,
            member_id__in={m.member_id for m in memberships},
            status=CouponStatus.AVAILABLE,
            expires_at__gt=now,
        )
        .order_by("expires_at")
    }
    offers = {}
    for membership in memberships:
        coupon = held.get(membership.member_id)
        if coupon is None:
            try:
                with transaction.atomic():
                    coupon = _issue(
                        org,
                        template,
                        membership.member,
                        CouponSource.WAKE_UP,
                        actor_label=_("wake-up"),
                        reason=str(membership.community),
                        now=now,
                    )
            except CouponRefused:
                continue
            held[membership.member_id] = coupon
        offers[membership.pk] = offer_context(coupon, org)
    return offers


def offer_context(coupon, org) -> dict:
    """What the composer needs to name a coupon (composer.coupon_offer)."""
    template = coupon.template
    return {
        "name": template.name,
        "kind": template.kind,
        "value": template.value,
        "max_off": template.max_off,
        "min_spend": template.min_spend,
        "free_shipping": template.free_shipping,
        "expires": coupon.expires_at.astimezone(org.tzinfo).date(),
    }


def tell_granted(coupons, reason: str) -> None:
    """Tell each member by the bot that a coupon is theirs, with the link to their coupons
    (in the caller's transaction, through the outbox)."""
    if not coupons:
        return
    org = coupons[0].organization
    members = [c.member for c in coupons]
    reach = addressees(org, [m.pk for m in members])
    links = personal_links(org, [m for m in members if m.pk in reach], "me/coupons/")
    groups = {
        m.member_id: m.community
        for m in Membership.objects.for_org(org)
        .filter(member_id__in=reach, status__in=PRESENT_STATUSES)
        .select_related("community")
        .order_by("joined_at")
    }  # the newest group they are in
    for coupon in coupons:
        if coupon.member_id not in reach:
            continue
        context = {
            **offer_context(coupon, org),
            "reason": reason,
            "link": links.get(coupon.member_id, ""),
        }
        outbox.enqueue(
            organization=org,
            kind=ActionKind.NOTIFY,
            community=groups.get(coupon.member_id),
            member=coupon.member,
            text=compose(MessageKind.COUPON_GRANTED, context, language=org.default_language),
            **address(reach[coupon.member_id], coupon.member),
        )


# --- the photo reward (晒单有奖) ----------------------------------------------------------------


def showcase_posts(org, posts: list[tuple[int, datetime]], actor_label: str) -> list:
    """Image posts (member id, posted at) count towards the photo reward: a buyer who posts an
    image on `showcase_days` days in a row after their latest order gets the showcase coupon,
    once per order. A day counts once; a gap of a day starts the run again; a new order starts
    a new run. Days are the organization's local days."""
    current = settings_for(org)
    template = current.showcase_template
    if template is None or not template.is_active or not posts:
        return []
    from .models import BOUGHT, Order, ShowcaseProgress

    member_ids = {m for m, _at in posts}
    orders: dict = {}
    for order in (
        Order.objects.for_org(org)
        .filter(member_id__in=member_ids, status__in=BOUGHT)
        .order_by("member_id", "-placed_at")
        .only("pk", "member_id", "placed_at")
    ):
        orders.setdefault(order.member_id, []).append(order)
    progress = {
        p.member_id: p
        for p in ShowcaseProgress.objects.for_org(org)
        .select_for_update()
        .filter(member_id__in=member_ids)
    }
    members = Member.objects.for_org(org).in_bulk(member_ids)
    issued = []
    for member_id, at in sorted(posts, key=lambda p: p[1]):
        order = next((o for o in orders.get(member_id, []) if o.placed_at <= at), None)
        if order is None:
            continue  # no order before the photo: not a 晒单
        day = at.astimezone(org.tzinfo).date()
        row = progress.get(member_id)
        if row is None:
            row = progress[member_id] = ShowcaseProgress(
                organization=org, member_id=member_id, order=order, last_day=day, days=1
            )
        elif row.order_id != order.pk:
            row.order, row.last_day, row.days, row.rewarded_at = order, day, 1, None
        elif row.rewarded_at is not None or day <= row.last_day:
            continue  # this order's reward is given; or the day counted already
        elif day == row.last_day + timedelta(days=1):
            row.last_day, row.days = day, row.days + 1
        else:
            row.last_day, row.days = day, 1
        if row.days >= current.showcase_days and row.rewarded_at is None:
            try:
                with transaction.atomic():
                    issued.append(
                        _issue(
                            org,
                            template,
                            members[member_id],
                            CouponSource.SHOWCASE,
                            actor_label=actor_label,
                            reason=_("photos on %(n)s days in a row") % {"n": row.days},
                            now=max(at, timezone.now()),
                        )
                    )
            except CouponRefused:
                pass
            row.rewarded_at = timezone.now()
        row.save()
    tell_granted(issued, CouponSource.SHOWCASE)
    return issued


# --- checkout ----------------------------------------------------------------------------------


def applies_to(template, campaign, target_ids=None) -> bool:
    """Does the template's scope cover this campaign?"""
    if template.scope == CouponScope.ALL:
        return True
    targets = list(template.targets.all())
    if template.scope == CouponScope.CAMPAIGNS:
        return any(t.campaign_id == campaign.pk for t in targets)
    if target_ids is None:
        target_ids = set(
            CampaignTarget.objects.for_org(campaign.organization_id)
            .filter(campaign=campaign)
            .values_list("community_id", flat=True)
        )
    return any(t.community_id in target_ids for t in targets)


def usable_coupons(org, member, campaign=None, now=None) -> list[IssuedCoupon]:
    """The member's coupons that may be used now (for `campaign`: those whose scope covers it),
    soonest to expire first."""
    now = now or timezone.now()
    coupons = list(
        IssuedCoupon.objects.for_org(org)
        .filter(
            member=member,
            status=CouponStatus.AVAILABLE,
            valid_from__lte=now,
            expires_at__gt=now,
        )
        .select_related("template")
        .prefetch_related("template__targets")
        .order_by("expires_at", "pk")[:100]
    )
    if campaign is None:
        return coupons
    target_ids = set(
        CampaignTarget.objects.for_org(org)
        .filter(campaign=campaign)
        .values_list("community_id", flat=True)
    )
    return [c for c in coupons if applies_to(c.template, campaign, target_ids)]


def checkable_coupon(org, member, coupon_id, campaign, now) -> IssuedCoupon:
    """The coupon an order names, if this member may use it on this campaign now; otherwise
    the refusal (code `coupon_invalid`) says why."""
    from .services import OrderRefused

    coupon = (
        IssuedCoupon.objects.for_org(org)
        .filter(pk=coupon_id, member=member)
        .select_related("template")
        .first()
    )
    if coupon is None:
        raise OrderRefused("coupon_invalid", _("This coupon is not yours."))
    if coupon.status == CouponStatus.USED:
        raise OrderRefused("coupon_invalid", _("This coupon has been used."))
    if coupon.status == CouponStatus.EXPIRED or coupon.expires_at <= now:
        raise OrderRefused("coupon_invalid", _("This coupon has expired."))
    if coupon.valid_from > now:
        raise OrderRefused("coupon_invalid", _("This coupon is not valid yet."))
    if not applies_to(coupon.template, campaign):
        raise OrderRefused("coupon_invalid", _("This coupon does not apply to this sale."))
    return coupon


def coupon_use(coupon, order, now, actor_label) -> None:
    """Mark the coupon used by `order` inside the order's transaction. The conditional UPDATE is
    what makes a coupon single-use: of two orders racing for it, one updates the row, the other
    finds it used and its transaction rolls back."""
    from .services import OrderRefused

    taken = (
        IssuedCoupon.objects.for_org(order.organization_id)
        .filter(pk=coupon.pk, status=CouponStatus.AVAILABLE, expires_at__gt=now)
        .update(status=CouponStatus.USED, order=order, used_at=now)
    )
    if not taken:
        raise OrderRefused("coupon_invalid", _("This coupon has been used."))
    _history(coupon, CouponEventKind.USED, now, actor_label, order=order)


def coupon_return(order, now, actor_label, reason: str) -> bool:
    """An order cancelled or expired unpaid gives its coupon back while the coupon is still
    valid (a refunded order does not: docs/coupons.md). In the order's transaction."""
    if order.coupon_id is None:
        return False
    returned = (
        IssuedCoupon.objects.for_org(order.organization_id)
        .filter(pk=order.coupon_id, status=CouponStatus.USED, order=order, expires_at__gt=now)
        .update(status=CouponStatus.AVAILABLE, order=None, used_at=None)
    )
    if returned:
        coupon = IssuedCoupon.objects.for_org(order.organization_id).get(pk=order.coupon_id)
        _history(coupon, CouponEventKind.RETURNED, now, actor_label, order=order, reason=reason)
    return bool(returned)


def expire_coupons(org, now=None) -> int:
    """Coupons past their date become expired, with a history line (idempotent)."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                IssuedCoupon.objects.for_org(org)
                .filter(status=CouponStatus.AVAILABLE, expires_at__lte=now)
                .select_for_update(skip_locked=True)
                .order_by("pk")[:500]
            )
            if not batch:
                return expired
            IssuedCoupon.objects.for_org(org).filter(pk__in=[c.pk for c in batch]).update(
                status=CouponStatus.EXPIRED
            )
            CouponEvent.objects.bulk_create(
                [
                    CouponEvent(
                        organization=org,
                        coupon=c,
                        kind=CouponEventKind.EXPIRED,
                        at=c.expires_at,
                        actor_label=_("expiry"),
                    )
                    for c in batch
                ]
            )
            expired += len(batch)


# --- segment perks -----------------------------------------------------------------------------


def perk_save(
    *, actor, name: str, active_within_days: int, percent_off=0, amount_off=None, min_spend=None
) -> SegmentPerk:
    """A discount applied at checkout to members active within the last N days."""
    require(actor, "campaign.manage")
    errors: dict = {}
    name = (name or "").strip()
    if not name or len(name) > 60:
        errors["name"] = [_("Enter a name of at most 60 characters.")]
    if not isinstance(active_within_days, int) or not 1 <= active_within_days <= 365:
        errors["active_within_days"] = [_("Give between 1 and 365 days.")]
    if not isinstance(percent_off, int) or not 0 <= percent_off <= 90:
        errors["percent_off"] = [_("Give between 0 and 90 percent.")]
    amount_off = _decimal(amount_off, "amount_off", errors) or Decimal("0")
    min_spend = _decimal(min_spend, "min_spend", errors) or Decimal("0")
    if not errors and percent_off == 0 and amount_off == 0:
        errors["percent_off"] = [_("Give a percentage or an amount off.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        perk = SegmentPerk.objects.create(
            organization=actor.organization,
            name=name,
            active_within_days=active_within_days,
            percent_off=percent_off,
            amount_off=amount_off,
            min_spend=min_spend,
        )
        audit.record(actor=actor, action="coupon.perk_create", obj=perk, summary=name)
    return perk


def perk_toggle(*, actor, perk) -> SegmentPerk:
    require(actor, "campaign.manage")
    with transaction.atomic():
        perk.is_active = not perk.is_active
        perk.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="coupon.perk_on" if perk.is_active else "coupon.perk_off",
            obj=perk,
        )
    return perk


def perks_for(org, member, now=None) -> list[SegmentPerk]:
    """The active perks this member qualifies for now."""
    now = now or timezone.now()
    perks = list(SegmentPerk.objects.for_org(org).filter(is_active=True))
    if not perks:
        return []
    last_active = (
        Membership.objects.for_org(org)
        .filter(member=member, last_active_at__isnull=False)
        .order_by("-last_active_at")
        .values_list("last_active_at", flat=True)
        .first()
    )
    if last_active is None:
        return []
    return [p for p in perks if last_active >= now - timedelta(days=p.active_within_days)]


def perk_terms(perk) -> pricing.PerkTerms:
    return pricing.PerkTerms(
        percent_off=perk.percent_off, amount_off=perk.amount_off, min_spend=perk.min_spend
    )


def quote(campaign, member, quantity: int, coupon=None, now=None):
    """The price this member would pay (no coupon check beyond its terms): (Breakdown, perk)."""
    perks = perks_for(campaign.organization, member, now)
    tier = member.tier if member.tier_id else None
    breakdown, index = pricing.compute(
        unit_price=campaign.price,
        quantity=quantity,
        shipping_fee=campaign.shipping_fee,
        tier_percent=tier.discount_percent if tier and tier.is_active else 0,
        tier_free_shipping=bool(tier and tier.is_active and tier.free_shipping),
        perks=[perk_terms(p) for p in perks],
        coupon=pricing.CouponTerms.of(coupon.template) if coupon is not None else None,
    )
    return breakdown, (perks[index] if index is not None else None)
