"""`POST /api/v1/events/`: store what the bots saw, then let each app apply the types it owns.

The edge validates (integrations.event_schema), drops events whose id is stored already
(before anything is created for them), creates the groups and people seen for the first time,
and claims each event id by inserting its raw row (a resent event is stored once and applied
once, also when two requests race). The new events then go, in time order, through
the handler table: each app's handlers for the types it owns, in the order of `STAGES`
(members first: memberships, moderation, points; then campaigns: orders; then care:
complaints and shipping; then engagement: answers to polls replied in the group). Each
stage loads what it needs up front and writes in bulk at the end, so a batch of up to 1,000
events costs a constant number of queries, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from campaigns.batch import OrderEvents
from campaigns.coupon_events import CouponEvents
from care.batch import CareEvents
from communities.services import communities_seen
from engagement.batch import PollEvents
from integrations.event_schema import EVENT_TYPES, EventBatch, event_type, parse_batch
from members.batch import MemberEvents
from members.raw_events import already_claimed, claim_events
from members.services import identities_seen


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def load_stages(batch: EventBatch) -> list:
    """Each app's handlers for this batch, in the order they apply an event."""
    coupons = CouponEvents.load(batch)  # first: who had a group before (members' load adds some)
    members = MemberEvents.load(batch)
    return [
        members,
        OrderEvents.load(batch, members),
        coupons,
        CareEvents.load(batch),
        PollEvents.load(batch),
    ]


def handler_table(stages) -> dict[str, list[Callable]]:
    """{event type: [handlers in stage order]}; every known type has at least one."""
    table: dict[str, list[Callable]] = {t: [] for t in EVENT_TYPES}
    for stage in stages:
        for type_, handler in stage.handlers().items():
            table[type_].append(handler)
    missing = [t for t, handlers in table.items() if not handlers]
    if missing:
        raise RuntimeError(f"no handler for event types {missing}")
    return table


def ingest_events(*, actor, raw_events) -> IngestResult:
    """Validate, store and apply a batch. Raises ValueError if the body is not a batch."""
    valid, rejected = parse_batch(raw_events)
    events = [event for _index, event in valid if event is not None]
    result = IngestResult(rejected=rejected, duplicates=len(valid) - len(events))
    if not events:
        return result
    org = actor.organization
    with transaction.atomic():
        known = already_claimed(org, events)
        result.duplicates += len(known)
        events = [e for e in events if e.id not in known]
        if not events:
            return result
        communities = communities_seen(org, {(e.platform, e.community) for e in events})
        identities = identities_seen(org, _user_names(events))
        fresh = claim_events(org, actor, events, communities, identities)
        result.duplicates += len(events) - len(fresh)
        result.accepted = len(fresh)
        if fresh:
            apply_events(EventBatch(org, actor, fresh, communities, identities))
    return result


def record_member_event(*, actor, membership, type_: str, event_id: str, at) -> bool:
    """An event that happened on the member's own pages rather than in front of a bot (a
    check-in): stored and applied exactly like a bot's, with the same rules, idempotent by
    `event_id`. The membership says who and where, so nothing is looked up by platform ids
    (a group created in the dashboard may have none yet). Returns whether it was new."""
    community, identity = membership.community, membership.identity
    where = community.external_id or f"qunyun:{community.pk}"
    valid, rejected = parse_batch(
        [
            {
                "id": event_id,
                "type": type_,
                "platform": identity.platform,
                "community": where,
                "user": identity.external_user_id,
                "occurred_at": at.isoformat(),
            }
        ]
    )
    if rejected:
        raise ValueError(rejected)
    events = [event for _index, event in valid]
    org = actor.organization
    with transaction.atomic():
        if already_claimed(org, events):
            return False
        communities = {(identity.platform, where): community}
        identities = {(identity.platform, identity.external_user_id): identity}
        fresh = claim_events(org, actor, events, communities, identities)
        if fresh:
            apply_events(EventBatch(org, actor, fresh, communities, identities))
    return bool(fresh)


def apply_events(batch: EventBatch) -> None:
    stages = load_stages(batch)
    table = handler_table(stages)
    for event in batch.events:
        for handler in table[event_type(event)]:
            handler(event)
    for stage in stages:
        stage.flush()


def _user_names(events) -> dict:
    """{(platform, external user id): display name} for everyone the events mention."""
    names: dict = {}
    for e in events:
        names.setdefault((e.platform, e.user), e.display_name)
        if e.display_name:
            names[(e.platform, e.user)] = e.display_name
        for other in (getattr(e, "invitee", None), getattr(e, "invited_by", None)):
            if other:
                names.setdefault((e.platform, other), "")
    return names
