"""Points rules and the redemption catalogue."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import (
    PointsRules,
    RedemptionItem,
)
from core.formatting import count
from tenancy import audit
from tenancy.permissions import require

from .base import apply_or_restore, full_clean

# --- Points rules and redemption catalogue ----------------------------------------------

POINTS_FIELDS = [
    "checkin",
    "share",
    "invite",
    "per_yuan",
    "repurchase_multiplier",
    "per_message",
    "message_daily_cap",
    "streak_days",
    "streak_bonus",
    "share_daily_cap",
    "invite_min_stay_days",
    "invites_for_bonus",
    "invite_bonus",
]


def points_rules_of(org) -> PointsRules:
    rules = PointsRules.objects.for_org(org).first()
    return rules or PointsRules(organization=org)


def points_rules_update(*, actor, **data) -> PointsRules:
    require(actor, "community.manage")
    rules = points_rules_of(actor.organization)
    values = {key: data[key] for key in POINTS_FIELDS if key in data}
    before = apply_or_restore(rules, values, lambda: full_clean(rules))
    changes = {
        key: [str(before[key]), str(values[key])] for key in values if before[key] != values[key]
    }
    with transaction.atomic():
        rules.updated_at = timezone.now()
        rules.save()
        audit.record(
            actor=actor,
            action="points.rules_update",
            obj=rules,
            summary=audit.field_labels(PointsRules, changes),
            changes=changes,
        )
    return rules


def redemption_item_save(*, actor, item: RedemptionItem | None = None, **data) -> RedemptionItem:
    require(actor, "community.manage")
    creating = item is None
    item = item or RedemptionItem(organization=actor.organization)
    fields = ["name", "points_cost", "description", "stock", "is_active"]
    values = {key: data[key] for key in fields if key in data}
    apply_or_restore(item, values, lambda: full_clean(item))
    with transaction.atomic():
        item.save()
        audit.record(
            actor=actor,
            action="points.item_create" if creating else "points.item_update",
            obj=item,
            summary=_("%(n)s points") % {"n": count(item.points_cost)},
        )
    return item
