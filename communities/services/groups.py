"""Groups: create, edit, archive, tag in bulk, and the groups events name for the first time."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    CommunityRules,
    CommunityStatus,
)
from core.errors import Conflict
from tenancy import audit
from tenancy.permissions import require

from .base import apply_or_restore, clean_tags, full_clean, plain

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
    "join_url",
]


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
            raise Conflict(
                {"external_id": [_("Another group on this platform already has this external id.")]}
            )


def community_create(*, actor, **data) -> Community:
    require(actor, "community.manage")
    values = {key: data.get(key) for key in COMMUNITY_FIELDS if key in data}
    values["tags"] = clean_tags(values.get("tags"))
    values["external_id"] = (values.get("external_id") or "").strip()
    community = Community(organization=actor.organization, **values)
    full_clean(community)
    _check_community(actor, community)
    with transaction.atomic():
        community.save()
        CommunityRules.objects.create(organization=actor.organization, community=community)
        audit.record(
            actor=actor,
            action="community.create",
            obj=community,
            summary=community.get_kind_display(),
        )
    return community


def community_update(*, actor, community: Community, **data) -> Community:
    require(actor, "community.manage", community)
    values = {key: data[key] for key in COMMUNITY_FIELDS if key in data}
    if "tags" in values:
        values["tags"] = clean_tags(values["tags"])
    if "external_id" in values:
        values["external_id"] = (values["external_id"] or "").strip()

    def validate():
        full_clean(community)
        _check_community(actor, community)

    before = apply_or_restore(community, values, validate)
    changes = {
        key: [plain(before[key]), plain(values[key])]
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
            summary=audit.field_labels(Community, changes),
            changes=changes,
        )
    return community


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
