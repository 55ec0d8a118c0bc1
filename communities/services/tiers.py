"""VIP tiers and the pure rule that places a member in one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    CommunityStatus,
    VipTier,
)
from core.errors import Conflict
from tenancy import audit
from tenancy.permissions import require

from .base import apply_or_restore, full_clean

# --- VIP tiers ---------------------------------------------------------------------------

TIER_CONDITIONS = ["min_paid_orders", "min_spend", "min_points", "min_active_days_30"]
TIER_FIELDS = [
    "name",
    "rank",
    "manual_only",
    *TIER_CONDITIONS,
    "benefits",
    "discount_percent",
    "points_multiplier",
    "free_shipping",
    "hold_days",
]


def _check_tier(actor, tier: VipTier) -> None:
    conditions = [getattr(tier, key) for key in TIER_CONDITIONS]
    if tier.manual_only and any(conditions):
        raise ValidationError(
            _("A tier granted by hand only cannot also have entry conditions; clear them.")
        )
    others = VipTier.objects.for_org(actor.organization).filter(is_active=True)
    if tier.pk:
        others = others.exclude(pk=tier.pk)
    if others.filter(rank=tier.rank).exists():
        raise Conflict({"rank": [_("Another tier already has this rank.")]})
    if others.filter(name=tier.name).exists():
        raise Conflict({"name": [_("Another tier already has this name.")]})
    if tier.manual_only:
        return
    for other in others.filter(manual_only=False):
        theirs = [getattr(other, key) for key in TIER_CONDITIONS]
        lower, higher = (other, tier) if other.rank < tier.rank else (tier, other)
        low = [getattr(lower, key) for key in TIER_CONDITIONS]
        high = [getattr(higher, key) for key in TIER_CONDITIONS]
        if theirs == conditions or any(h < lo for h, lo in zip(high, low, strict=True)):
            raise ValidationError(
                _(
                    "Contradictory conditions: “%(high)s” ranks above “%(low)s”, so each of its "
                    "conditions must be at least as demanding, and not all the same."
                )
                % {"high": higher.name, "low": lower.name}
            )


def tier_save(*, actor, tier: VipTier | None = None, **data) -> VipTier:
    require(actor, "community.manage")
    creating = tier is None
    tier = tier or VipTier(organization=actor.organization)
    values = {key: data[key] for key in TIER_FIELDS if key in data}
    if isinstance(values.get("name"), str):
        values["name"] = values["name"].strip()

    def validate():
        full_clean(tier)
        _check_tier(actor, tier)

    apply_or_restore(tier, values, validate)
    with transaction.atomic():
        tier.save()
        audit.record(
            actor=actor,
            action="tier.create" if creating else "tier.update",
            obj=tier,
            summary=f"#{tier.rank} {tier.name}",
        )
    return tier


def tier_deactivate(*, actor, tier: VipTier) -> VipTier:
    require(actor, "community.manage")
    if (
        Community.objects.for_org(actor.organization)
        .filter(required_tier=tier, status=CommunityStatus.ACTIVE)
        .exists()
    ):
        raise Conflict(_("Groups still require this tier; change them first."))
    with transaction.atomic():
        tier.is_active = False
        tier.save(update_fields=["is_active"])
        audit.record(actor=actor, action="tier.deactivate", obj=tier)
    return tier


def evaluate_tier(tiers, *, paid_orders=0, spend=0, points=0, active_days_30=0):
    """The highest active tier whose every condition the numbers meet (manual tiers excluded).

    Pure: the nightly promotion job (with the member lifecycle) feeds it each member's numbers.
    """
    stats = {
        "min_paid_orders": paid_orders,
        "min_spend": spend,
        "min_points": points,
        "min_active_days_30": active_days_30,
    }
    best = None
    for tier in sorted(tiers, key=lambda t: t.rank):
        if not tier.is_active or tier.manual_only:
            continue
        if all(stats[key] >= getattr(tier, key) for key in TIER_CONDITIONS):
            best = tier
    return best
