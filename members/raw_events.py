"""The raw events store: every event a bot posted, kept as it came (minus text the organization
does not keep, and names of members whose data was erased). Inserting the row is the claim on
the client's event id."""

from __future__ import annotations

import uuid

import msgspec

from integrations.event_schema import event_type

from .models import RawEvent


def already_claimed(org, events) -> set:
    """The client event ids of these events that are stored already (resent events): checked
    before anything is created for them, so a resend with another group or user creates
    neither."""
    ids = [e.id for e in events]
    return set(
        RawEvent.objects.for_org(org)
        .filter(client_event_id__in=ids)
        .values_list("client_event_id", flat=True)
    )


def claim_events(org, actor, events, communities, identities) -> list:
    """Store the raw events; return those this request inserted, in time order (the others
    are duplicates: sent before, or by a racing request)."""
    batch_id = uuid.uuid4()
    store_text = org.store_message_text
    RawEvent.objects.bulk_create(
        [
            RawEvent(
                organization=org,
                client_event_id=e.id,
                type=event_type(e),
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
