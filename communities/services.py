"""Every state change of communities, their rules and staff, VIP tiers and points rules.

Each function is atomic, checks the actor's capability, rejects bad input with a translated
ValidationError before writing anything, and records the audit log.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy import audit
from tenancy.models import OrgMembership
from tenancy.permissions import require
from tenancy.roles import CommunityRole

from .models import (
    Community,
    CommunityRules,
    CommunityStatus,
    PointsRules,
    RedemptionItem,
    StaffAssignment,
    VipTier,
)
from .rule_templates import TEMPLATES
from .rules import clean_auto_replies, clean_rules

COMMUNITY_FIELDS = [
    "name",
    "kind",
    "platform",
    "external_id",
    "capacity",
    "region",
    "category",
    "parent",
    "tags",
    "required_tier",
]
RULES_FIELDS = [
    "intro_who",
    "intro_why",
    "intro_runs",
    "welcome_message",
    "rules",
    "warnings_before_removal",
    "warning_expiry_days",
    "announce_removal",
    "mute_before_removal",
    "auto_replies",
    "dormant_after_days",
    "reminder_cooldown_days",
    "max_reminders",
    "reminder_template",
    "reminder_offer",
    "posts_per_day_limit",
]
MAX_TAGS = 20


def clean_tags(tags) -> list[str]:
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.replace("，", ",").split(",")
    if not isinstance(tags, list | tuple):
        raise ValidationError({"tags": [_("Give tags as a list of short texts.")]})
    cleaned = []
    for tag in tags:
        tag = str(tag).strip()
        if len(tag) > 30:
            raise ValidationError({"tags": [_("A tag has at most 30 characters.")]})
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": [_("At most %(n)s tags.") % {"n": MAX_TAGS}]})
    return cleaned


def _apply_or_restore(instance, values: dict, validate) -> dict:
    """Set `values` on `instance` and run `validate()`; on a ValidationError put the old values
    back (the caller's object stays as it was) and re-raise. Returns the old values."""
    before = {key: getattr(instance, key) for key in values}
    for key, value in values.items():
        setattr(instance, key, value)
    try:
        validate()
    except ValidationError:
        for key, value in before.items():
            setattr(instance, key, value)
        raise
    return before


def _full_clean(instance, exclude=()):
    """Model validation with our own unique-constraint check (a friendlier message)."""
    instance.full_clean(exclude=["organization", *exclude], validate_constraints=False)


def _check_community(actor, community: Community) -> None:
    org = actor.organization
    community.clean_same_org(community.parent, community.required_tier)
    if community.parent_id is not None:
        if community.parent_id == community.pk:
            raise ValidationError({"parent": [_("A group cannot be its own parent.")]})
        ancestor, seen = community.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == community.pk:
                raise ValidationError({"parent": [_("That would make a loop of parent groups.")]})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
    if community.external_id:
        clash = Community.objects.for_org(org).filter(
            platform=community.platform, external_id=community.external_id
        )
        if community.pk:
            clash = clash.exclude(pk=community.pk)
        if clash.exists():
            raise ValidationError(
                {"external_id": [_("Another group on this platform already has this external id.")]}
            )


def community_create(*, actor, **data) -> Community:
    require(actor, "community.manage")
    values = {key: data.get(key) for key in COMMUNITY_FIELDS if key in data}
    values["tags"] = clean_tags(values.get("tags"))
    values["external_id"] = (values.get("external_id") or "").strip()
    community = Community(organization=actor.organization, **values)
    _full_clean(community)
    _check_community(actor, community)
    with transaction.atomic():
        community.save()
        CommunityRules.objects.create(organization=actor.organization, community=community)
        audit.record(actor=actor, action="community.create", obj=community, summary=community.kind)
    return community


def community_update(*, actor, community: Community, **data) -> Community:
    require(actor, "community.manage", community)
    values = {key: data[key] for key in COMMUNITY_FIELDS if key in data}
    if "tags" in values:
        values["tags"] = clean_tags(values["tags"])
    if "external_id" in values:
        values["external_id"] = (values["external_id"] or "").strip()

    def validate():
        _full_clean(community)
        _check_community(actor, community)

    before = _apply_or_restore(community, values, validate)
    changes = {
        key: [_plain(before[key]), _plain(values[key])]
        for key in values
        if before[key] != values[key]
    }
    if not changes:
        return community
    with transaction.atomic():
        community.updated_at = timezone.now()
        community.save()
        audit.record(
            actor=actor,
            action="community.update",
            obj=community,
            summary=", ".join(changes),
            changes=changes,
        )
    return community


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    return value


def community_set_archived(*, actor, community: Community, archived: bool) -> Community:
    require(actor, "community.manage", community)
    if community.is_archived == archived:
        return community
    with transaction.atomic():
        community.status = CommunityStatus.ARCHIVED if archived else CommunityStatus.ACTIVE
        community.archived_at = timezone.now() if archived else None
        community.updated_at = timezone.now()
        community.save(update_fields=["status", "archived_at", "updated_at"])
        audit.record(
            actor=actor,
            action="community.archive" if archived else "community.restore",
            obj=community,
        )
    return community


def communities_bulk_archive(*, actor, communities) -> int:
    with transaction.atomic():
        changed = 0
        for community in communities:
            if not community.is_archived:
                community_set_archived(actor=actor, community=community, archived=True)
                changed += 1
    return changed


def communities_bulk_tag(*, actor, communities, add=(), remove=()) -> int:
    add, remove = clean_tags(list(add)), clean_tags(list(remove))
    if not add and not remove:
        raise ValidationError({"tags": [_("Give at least one tag to add or remove.")]})
    with transaction.atomic():
        changed = 0
        for community in communities:
            tags = [t for t in community.tags if t not in remove]
            tags += [t for t in add if t not in tags]
            if tags != community.tags:
                community_update(actor=actor, community=community, tags=tags)
                changed += 1
    return changed


# --- Intro and rules -----------------------------------------------------------------------


def _rules_of(community) -> CommunityRules:
    rules = (
        CommunityRules.objects.for_org(community.organization).filter(community=community).first()
    )
    if rules is None:
        rules = CommunityRules.objects.create(
            organization=community.organization, community=community
        )
    return rules


def rules_update(*, actor, community: Community, **data) -> CommunityRules:
    require(actor, "community.manage", community)
    rules = _rules_of(community)
    values = {key: data[key] for key in RULES_FIELDS if key in data}
    if "rules" in values:
        values["rules"] = clean_rules(values["rules"])
    if "auto_replies" in values:
        values["auto_replies"] = clean_auto_replies(values["auto_replies"])
    before = _apply_or_restore(rules, values, lambda: _full_clean(rules, exclude=["community"]))
    changed = [key for key in values if before[key] != values[key]]
    if "source_template" in data:
        rules.source_template = data["source_template"]
    with transaction.atomic():
        rules.updated_at = timezone.now()
        rules.save()
        audit.record(
            actor=actor,
            action="community.rules_update",
            obj=community,
            summary=", ".join(changed) or _("no changes"),
        )
    return rules


def rules_apply_template(*, actor, community: Community, template: str) -> CommunityRules:
    if template not in TEMPLATES:
        raise ValidationError({"template": [_("Choose one of the templates.")]})
    spec = TEMPLATES[template]
    values = {key: spec[key] for key in RULES_FIELDS if key in spec}
    return rules_update(actor=actor, community=community, source_template=template, **values)


def rules_copy(*, actor, source: Community, targets) -> int:
    """Copy intro, rules and enforcement from one group to many, all or nothing."""
    require(actor, "community.view", source)
    targets = [t for t in targets if t.pk != source.pk]
    if not targets:
        raise ValidationError({"targets": [_("Choose at least one other group.")]})
    rules = _rules_of(source)
    values = {key: getattr(rules, key) for key in RULES_FIELDS}
    with transaction.atomic():
        for target in targets:
            rules_update(
                actor=actor,
                community=target,
                source_template=rules.source_template,
                **values,
            )
        audit.record(
            actor=actor,
            action="community.rules_copy",
            obj=source,
            summary=", ".join(t.name for t in targets)[:500],
        )
    return len(targets)


# --- Staff ---------------------------------------------------------------------------------


def staff_assign(*, actor, community: Community, user, role: str) -> StaffAssignment:
    require(actor, "community.staff.manage", community)
    if role not in CommunityRole.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    org = actor.organization
    if community.is_archived:
        raise ValidationError(_("This group is archived."))
    if not OrgMembership.objects.for_org(org).filter(user=user, is_active=True).exists():
        raise ValidationError({"user": [_("This person is not in the organization.")]})
    existing = StaffAssignment.objects.for_org(org).filter(
        community=community, user=user, role=role, ended_at=None
    )
    if existing.exists():
        return existing.get()
    with transaction.atomic():
        assignment = StaffAssignment.objects.create(
            organization=org, community=community, user=user, role=role, assigned_by=actor.user
        )
        audit.record(
            actor=actor,
            action="community.staff_assign",
            obj=community,
            summary=f"{user.email} → {role}",
        )
    return assignment


def staff_unassign(*, actor, assignment: StaffAssignment) -> StaffAssignment:
    require(actor, "community.staff.manage", assignment.community)
    if assignment.ended_at is not None:
        return assignment
    with transaction.atomic():
        assignment.ended_at = timezone.now()
        assignment.save(update_fields=["ended_at"])
        audit.record(
            actor=actor,
            action="community.staff_unassign",
            obj=assignment.community,
            summary=f"{assignment.user.email} ✕ {assignment.role}",
        )
    return assignment


def communities_bulk_assign_staff(*, actor, communities, user, role) -> int:
    with transaction.atomic():
        for community in communities:
            staff_assign(actor=actor, community=community, user=user, role=role)
    return len(communities)


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
        raise ValidationError({"rank": [_("Another tier already has this rank.")]})
    if others.filter(name=tier.name).exists():
        raise ValidationError({"name": [_("Another tier already has this name.")]})
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
        _full_clean(tier)
        _check_tier(actor, tier)

    _apply_or_restore(tier, values, validate)
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
        raise ValidationError(_("Groups still require this tier; change them first."))
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
    before = _apply_or_restore(rules, values, lambda: _full_clean(rules))
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
            summary=", ".join(changes),
            changes=changes,
        )
    return rules


def redemption_item_save(*, actor, item: RedemptionItem | None = None, **data) -> RedemptionItem:
    require(actor, "community.manage")
    creating = item is None
    item = item or RedemptionItem(organization=actor.organization)
    fields = ["name", "points_cost", "description", "stock", "is_active"]
    values = {key: data[key] for key in fields if key in data}
    _apply_or_restore(item, values, lambda: _full_clean(item))
    with transaction.atomic():
        item.save()
        audit.record(
            actor=actor,
            action="points.item_create" if creating else "points.item_update",
            obj=item,
            summary=f"{item.points_cost}",
        )
    return item


def communities_seen(org, keys) -> dict:
    """{(platform, external id): Community} for the groups events name, creating (with empty
    rules) those seen for the first time. Set-based: a handful of queries for any number."""
    found = _communities_by_key(org, keys)
    missing = keys - found.keys()
    if missing:
        Community.objects.bulk_create(
            [
                Community(organization=org, platform=platform, external_id=ext, name=ext[:120])
                for platform, ext in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found = _communities_by_key(org, keys)
        with_rules = set(
            CommunityRules.objects.for_org(org)
            .filter(community__in=found.values())
            .values_list("community_id", flat=True)
        )
        CommunityRules.objects.bulk_create(
            [
                CommunityRules(organization=org, community=c)
                for c in found.values()
                if c.pk not in with_rules
            ],
            ignore_conflicts=True,
        )
    return found


def _communities_by_key(org, keys) -> dict:
    externals = {ext for _platform, ext in keys}
    rows = (
        Community.objects.for_org(org)
        .filter(external_id__in=externals)
        .select_related("required_tier")
    )
    return {(c.platform, c.external_id): c for c in rows if (c.platform, c.external_id) in keys}
