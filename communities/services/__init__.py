"""Every state change of communities, their rules and staff, VIP tiers and points rules.

Each function is atomic, checks the actor's capability, rejects bad input with a translated
ValidationError before writing anything, and records the audit log. One module per concern;
this package re-exports their public functions.
"""

from .base import MAX_TAGS, clean_tags
from .groups import (
    COMMUNITY_FIELDS,
    communities_bulk_archive,
    communities_bulk_tag,
    communities_seen,
    community_create,
    community_set_archived,
    community_update,
)
from .points import POINTS_FIELDS, points_rules_of, points_rules_update, redemption_item_save
from .rules import RULES_FIELDS, rules_apply_template, rules_copy, rules_update
from .staff import communities_bulk_assign_staff, staff_assign, staff_unassign
from .tiers import TIER_CONDITIONS, TIER_FIELDS, evaluate_tier, tier_deactivate, tier_save

__all__ = [
    "COMMUNITY_FIELDS",
    "MAX_TAGS",
    "POINTS_FIELDS",
    "RULES_FIELDS",
    "TIER_CONDITIONS",
    "TIER_FIELDS",
    "clean_tags",
    "communities_bulk_archive",
    "communities_bulk_assign_staff",
    "communities_bulk_tag",
    "communities_seen",
    "community_create",
    "community_set_archived",
    "community_update",
    "evaluate_tier",
    "points_rules_of",
    "points_rules_update",
    "redemption_item_save",
    "rules_apply_template",
    "rules_copy",
    "rules_update",
    "staff_assign",
    "staff_unassign",
    "tier_deactivate",
    "tier_save",
]
