"""`POST /api/v1/events/`: store what the bots saw and decide what happens next.

The write path is set-based: a batch of up to 1,000 events costs a constant number of queries.
Everything it needs is loaded up front in a handful of queries, each event is applied in memory
in time order (`BatchProcessor`), and the results are written with bulk inserts and updates in
one transaction. A resent event (same client id) is stored once and applied once, also when two
requests race: the raw-event insert is the claim.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import msgspec
from django.db import transaction
from django.db.models import Count, Sum

from campaigns.models import BOUGHT, Order
from care.ingestion import open_cases_from_events
from communities.models import Community, CommunityRules, PointsRules
from integrations.event_schema import parse_batch

from .enforcement import BatchProcessor
from .models import (
    Block,
    CheckIn,
    Member,
    MemberIdentity,
    Membership,
    PointsEntry,
    RawEvent,
    Warning,
)

PRESENCE_TYPES = {
    "member.joined",
    "message.posted",
    "member.checked_in",
    "content.shared",
    "member.invited",
}


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def ingest_events(*, actor, raw_events) -> IngestResult:
    """Validate, store and apply a batch. Raises ValueError if the body is not a batch."""
    valid, rejected = parse_batch(raw_events)
    events = [event for _index, event in valid if event is not None]
    result = IngestResult(rejected=rejected, duplicates=len(valid) - len(events))
    if not events:
        return result
    org = actor.organization
    with transaction.atomic():
        communities = _upsert_communities(org, events)
        identities = _upsert_identities(org, events)
        fresh = _claim(org, actor, events, communities, identities)
        result.duplicates += len(events) - len(fresh)
        result.accepted = len(fresh)
        if fresh:
            _apply(org, actor, fresh, communities, identities)
            open_cases_from_events(
                org=org, actor=actor, events=fresh, communities=communities, identities=identities
            )
    return result


# --- upserts ---------------------------------------------------------------------------------


def _upsert_communities(org, events) -> dict:
    """{(platform, external id): Community}, creating groups seen for the first time."""
    keys = {(e.platform, e.community) for e in events}
    found = _communities(org, keys)
    missing = keys - found.keys()
    if missing:
        Community.objects.bulk_create(
            [
                Community(organization=org, platform=platform, external_id=ext, name=ext[:120])
                for platform, ext in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found = _communities(org, keys)
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


def _communities(org, keys) -> dict:
    externals = {ext for _platform, ext in keys}
    rows = (
        Community.objects.for_org(org)
        .filter(external_id__in=externals)
        .select_related("required_tier")
    )
    return {(c.platform, c.external_id): c for c in rows if (c.platform, c.external_id) in keys}


def _user_keys(events) -> dict:
    """{(platform, external user id): display name} for everyone the events mention."""
    keys: dict = {}
    for e in events:
        keys.setdefault((e.platform, e.user), e.display_name)
        if e.display_name:
            keys[(e.platform, e.user)] = e.display_name
        for other in (getattr(e, "invitee", None), getattr(e, "invited_by", None)):
            if other:
                keys.setdefault((e.platform, other), "")
    return keys


def _upsert_identities(org, events) -> dict:
    """{(platform, external user id): MemberIdentity with .member}, creating new people."""
    names = _user_keys(events)
    found = _identities(org, names.keys())
    missing = sorted(names.keys() - found.keys())
    if missing:
        members = Member.objects.bulk_create(
            [Member(organization=org, display_name=names[key][:120]) for key in missing]
        )
        MemberIdentity.objects.bulk_create(
            [
                MemberIdentity(
                    organization=org,
                    member=member,
                    platform=platform,
                    external_user_id=ext,
                    display_name=names[(platform, ext)][:120],
                )
                for member, (platform, ext) in zip(members, missing, strict=True)
            ],
            ignore_conflicts=True,  # a concurrent batch created it first: its member wins
        )
        found = _identities(org, names.keys())
    return found


def _identities(org, keys) -> dict:
    externals = {ext for _platform, ext in keys}
    rows = (
        MemberIdentity.objects.for_org(org)
        .filter(external_user_id__in=externals)
        .select_related("member", "member__tier")
    )
    return {
        (i.platform, i.external_user_id): i
        for i in rows
        if (i.platform, i.external_user_id) in keys
    }


def _claim(org, actor, events, communities, identities) -> list:
    """Store the raw events; return those this request inserted (the others are duplicates)."""
    batch_id = uuid.uuid4()
    store_text = org.store_message_text
    RawEvent.objects.bulk_create(
        [
            RawEvent(
                organization=org,
                client_event_id=e.id,
                type=type(e).__struct_config__.tag,
                occurred_at=e.occurred_at,
                batch_id=batch_id,
                api_key=actor.api_key,
                community=communities[(e.platform, e.community)],
                member=identities[(e.platform, e.user)].member,
                payload=_payload(
                    e, store_text, erased=identities[(e.platform, e.user)].member.erased_at
                ),
            )
            for e in events
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    mine = set(
        RawEvent.objects.for_org(org)
        .filter(batch_id=batch_id)
        .values_list("client_event_id", flat=True)
    )
    return sorted((e for e in events if e.id in mine), key=lambda e: e.occurred_at)


def _payload(event, store_text: bool, erased=None) -> dict:
    data = msgspec.to_builtins(event)
    if not store_text:
        data.pop("text", None)  # used for rule checks only, unless the org opts in
    if erased is not None:  # a member whose personal data was erased (members/privacy.py)
        for key in ("display_name", "name_card", "text"):
            data.pop(key, None)
    return data


# --- applying ---------------------------------------------------------------------------------


def _apply(org, actor, events, communities, identities) -> None:
    identity_by_pk = {i.pk: i for i in identities.values()}
    earliest: dict = {}
    for e in events:
        if type(e).__struct_config__.tag in PRESENCE_TYPES:
            pair = (communities[(e.platform, e.community)].pk, identities[(e.platform, e.user)].pk)
            earliest.setdefault(pair, e.occurred_at)  # events are in time order
    community_ids = {c.pk for c in communities.values()}
    identity_ids = set(identity_by_pk)
    memberships = _memberships(org, community_ids, identity_ids)
    first_time = {
        pair: Membership(
            organization=org,
            community_id=pair[0],
            identity_id=pair[1],
            member_id=identity_by_pk[pair[1]].member_id,
            status="active",
            joined_at=joined_at,
        )
        for pair, joined_at in earliest.items()
        if pair not in memberships
    }
    member_ids = {i.member_id for i in identities.values()}
    groups_by_kind = _groups_by_kind(org, member_ids)  # before this batch's memberships exist
    if first_time:
        Membership.objects.bulk_create(first_time.values(), ignore_conflicts=True)
        memberships = _memberships(org, community_ids, identity_ids)
    membership_ids = [m.pk for m in memberships.values()]
    context = {
        "rules": {
            r.community_id: r
            for r in CommunityRules.objects.for_org(org).filter(community_id__in=community_ids)
        },
        "points_rules": PointsRules.objects.for_org(org).first() or PointsRules(organization=org),
        "active_warnings": _active_warning_counts(org, membership_ids),
        "blocked": set(
            Block.objects.for_org(org)
            .filter(member_id__in=member_ids, lifted_at=None)
            .values_list("member_id", flat=True)
        ),
        "groups_by_kind": groups_by_kind,
        "last_checkins": _last_checkins(org, membership_ids, events),
        "orders": {
            o.external_order_id: o
            for o in Order.objects.for_org(org).filter(
                external_order_id__in={e.order_id for e in events if hasattr(e, "order_id")}
            )
        },
        "order_counts": dict(
            Order.objects.for_org(org)
            .filter(member_id__in=member_ids, status__in=BOUGHT)
            .values("member_id")
            .annotate(n=Count("pk"))
            .values_list("member_id", "n")
        ),
        "points_today": _points_today(org, member_ids, events),
    }
    processor = BatchProcessor(
        organization=org,
        actor=actor,
        communities=communities,
        identities=identities,
        memberships=memberships,
        newly_created=set(first_time),
        **context,
    )
    for event in events:
        processor.apply(event)
    processor.flush()


def _memberships(org, community_ids, identity_ids) -> dict:
    """The memberships this batch touches, locked (in id order, so concurrent batches queue
    instead of deadlocking) so that two batches never overwrite each other's counters."""
    rows = (
        Membership.objects.for_org(org)
        .filter(community_id__in=community_ids, identity_id__in=identity_ids)
        .select_for_update()
        .order_by("pk")
    )
    return {(m.community_id, m.identity_id): m for m in rows}


def _last_checkins(org, membership_ids, events) -> dict:
    """{membership_id: (day, streak)} of the latest check-in that can continue a streak."""
    from datetime import timedelta

    first = min(e.occurred_at for e in events).astimezone(org.tzinfo).date()
    latest: dict = {}
    rows = (
        CheckIn.objects.for_org(org)
        .filter(membership_id__in=membership_ids, day__gte=first - timedelta(days=1))
        .values_list("membership_id", "day", "streak")
    )
    for membership_id, day, streak in rows:
        if membership_id not in latest or latest[membership_id][0] < day:
            latest[membership_id] = (day, streak)
    return latest


def _active_warning_counts(org, membership_ids) -> dict:
    from django.utils import timezone

    return dict(
        Warning.objects.for_org(org)
        .filter(membership_id__in=membership_ids, revoked_at=None, expires_at__gt=timezone.now())
        .values("membership_id")
        .annotate(n=Count("pk"))
        .values_list("membership_id", "n")
    )


def _groups_by_kind(org, member_ids) -> dict:
    """{member_id: {kind: {community ids}}} of the groups they are in now."""
    from .models import PRESENT_STATUSES

    groups: dict = defaultdict(lambda: defaultdict(set))
    rows = (
        Membership.objects.for_org(org)
        .filter(member_id__in=member_ids, status__in=PRESENT_STATUSES)
        .values_list("member_id", "community__kind", "community_id")
    )
    for member_id, kind, community_id in rows:
        groups[member_id][kind].add(community_id)
    return groups


def _points_today(org, member_ids, events) -> dict:
    """{(member_id, reason, day): points} already credited on the days the batch covers (for
    the daily caps; a backlog of old events counts against its own days)."""
    days = {e.occurred_at.astimezone(org.tzinfo).date() for e in events}
    rows = (
        PointsEntry.objects.for_org(org)
        .filter(member_id__in=member_ids, day__gte=min(days), day__lte=max(days), delta__gt=0)
        .values("member_id", "reason", "day")
        .annotate(total=Sum("delta"))
        .values_list("member_id", "reason", "day", "total")
    )
    return {(m, r, d): t for m, r, d, t in rows}
