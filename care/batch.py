"""The event types member care applies, called by the ingestion edge after the members and
campaigns apps applied the same batch, in the same transaction:

- `message.posted` whose text holds one of the group's complaint keywords opens a complaint
  (or, when the member already has an open complaint in that group, joins its timeline);
- `order.shipped` / `order.delivered` are recorded for the after-sales follow-up rules.

Set-based like the rest of ingestion: a constant number of queries per batch, none at all
when the batch has no message text and no shipping events. A resent event never reaches here
(ingestion filters duplicates), and `case_one_per_source_event` stops two racing batches.
The memberships of the batch are locked by ingestion, so the open-complaint lookup is stable.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from campaigns.models import Order
from integrations.event_schema import EventBatch
from tenancy import audit

from . import alerts
from .models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseSource,
    CaseStatus,
    CommunityKeywords,
    MilestoneKind,
    OrderMilestone,
    Priority,
)
from .services import build_case, default_assignees, settings_for

MILESTONES = {"order.shipped": MilestoneKind.SHIPPED, "order.delivered": MilestoneKind.DELIVERED}


def _tag(event) -> str:
    return type(event).__struct_config__.tag


class CareEvents:
    """Collects the batch's keyword messages and shipping events; `flush` opens the complaint
    cases and records the milestones, set-based."""

    def __init__(self, batch: EventBatch):
        self.batch = batch
        self.messages: list = []
        self.milestones: list = []

    @classmethod
    def load(cls, batch: EventBatch) -> CareEvents:
        return cls(batch)

    def handlers(self) -> dict[str, Callable]:
        return {
            "message.posted": self.on_message_posted,
            "order.shipped": self.milestones.append,
            "order.delivered": self.milestones.append,
        }

    def on_message_posted(self, event) -> None:
        if event.text:
            self.messages.append(event)

    def flush(self) -> int:
        """Record shipping and open complaint cases; returns the cases opened."""
        batch = self.batch
        _record_milestones(batch.organization, self.milestones)
        if not self.messages:
            return 0
        return _open_complaints(
            batch.organization, batch.actor, self.messages, batch.communities, batch.identities
        )


def keyword_in(text: str, keywords) -> str | None:
    folded = text.casefold()
    return next((word for word in keywords if word.casefold() in folded), None)


def _open_complaints(org, actor, messages, communities, identities) -> int:
    settings = settings_for(org)
    group_ids = {communities[(e.platform, e.community)].pk for e in messages}
    overrides = dict(
        CommunityKeywords.objects.for_org(org)
        .filter(community_id__in=group_ids)
        .values_list("community_id", "keywords")
    )
    hits = []
    for e in messages:
        community = communities[(e.platform, e.community)]
        word = keyword_in(e.text, overrides.get(community.pk, settings.complaint_keywords))
        if word:
            hits.append((e, community, identities[(e.platform, e.user)].member, word))
    if not hits:
        return 0
    open_cases = {
        (c.member_id, c.community_id): c
        for c in Case.objects.for_org(org).filter(
            kind=CaseKind.COMPLAINT,
            community_id__in={c.pk for _e, c, _m, _w in hits},
            member_id__in={m.pk for _e, _c, m, _w in hits},
            status__in=[s for s in CaseStatus.values if s != CaseStatus.CLOSED],
        )
    }
    assignees = default_assignees(org, {c.pk for _e, c, _m, _w in hits})
    keep_text = org.store_message_text
    new_cases, follow_ons = {}, []
    for e, community, member, word in hits:
        pair = (member.pk, community.pk)
        detail = _message_text(e, word, keep_text)
        if pair in open_cases or pair in new_cases:
            follow_ons.append((pair, e, detail))
            continue
        subject = (
            e.text[:200]
            if keep_text
            else _("Complaint keyword “%(word)s” in %(group)s")
            % {
                "word": word,
                "group": community.name,
            }
        )
        new_cases[pair] = (
            build_case(
                org,
                member=member,
                community=community,
                kind=CaseKind.COMPLAINT,
                subject=subject,
                source=CaseSource.KEYWORD,
                opened_at=e.occurred_at,
                opened_by_label=str(actor.label),
                priority=Priority.HIGH,
                assignee_id=assignees.get(community.pk),
                source_event_id=e.id,
            ),
            detail,
        )
    Case.objects.bulk_create([case for case, _d in new_cases.values()], ignore_conflicts=True)
    inserted = {
        c.source_event_id: c
        for c in Case.objects.for_org(org).filter(
            source_event_id__in=[case.source_event_id for case, _d in new_cases.values()]
        )
    }
    timeline = []
    for pair, (case, detail) in new_cases.items():
        saved = inserted.get(case.source_event_id)
        if saved is None:  # lost a race for the member's open complaint: join that one
            follow_ons.append((pair, None, detail))
            continue
        open_cases[pair] = saved
        timeline.append(_row(org, saved, CaseEventKind.OPENED, detail, actor, saved.opened_at))
    late = {p for p, _e, _d in follow_ons if p not in open_cases}
    if late:  # the race above: the winner's case, read once
        for c in (
            Case.objects.for_org(org)
            .filter(kind=CaseKind.COMPLAINT)
            .exclude(status=CaseStatus.CLOSED)
            .filter(member_id__in={m for m, _c in late}, community_id__in={c for _m, c in late})
        ):
            open_cases.setdefault((c.member_id, c.community_id), c)
    for pair, e, detail in follow_ons:
        case = open_cases.get(pair)
        if case is not None:
            at = e.occurred_at if e is not None else case.opened_at
            timeline.append(_row(org, case, CaseEventKind.MESSAGE, detail, actor, at))
    CaseEvent.objects.bulk_create(timeline)
    opened = list(inserted.values())
    for case in opened:
        audit.record(actor=actor, action="care.case_open", obj=case, summary=case.subject)
    alerts.cases_assigned(org, opened)
    return len(opened)


def _message_text(event, word, keep_text) -> str:
    if keep_text:
        return event.text[:2000]
    return _("Message with the keyword “%(word)s” (the organization keeps no message text).") % {
        "word": word
    }


def _row(org, case, kind, text, actor, at) -> CaseEvent:
    return CaseEvent(
        organization=org,
        case=case,
        kind=kind,
        text=text,
        actor_label=str(actor.label)[:200],
        created_at=at,
    )


def _record_milestones(org, events) -> None:
    if not events:
        return
    orders = dict(
        Order.objects.for_org(org)
        .filter(external_order_id__in={e.order_id for e in events})
        .values_list("external_order_id", "pk")
    )
    rows = [
        OrderMilestone(
            organization=org,
            order_id=orders[e.order_id],
            kind=MILESTONES[_tag(e)],
            at=e.occurred_at,
            tracking=getattr(e, "tracking", "")[:100],
        )
        for e in events
        if e.order_id in orders
    ]
    OrderMilestone.objects.bulk_create(rows, ignore_conflicts=True)
