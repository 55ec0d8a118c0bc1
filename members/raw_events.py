"""The raw events store: every event a bot posted, kept as it came (minus text the organization
does not keep, and names of members whose data was erased). Inserting the row is the claim on
the client's event id."""

from __future__ import annotations

import uuid

import msgspec
from django.db import connection
from django.utils import timezone

from core.bulk import rows_json
from integrations.event_schema import event_type
from tenancy.rls import org_hint

from .models import RawEvent


def already_claimed(org, events) -> set:
    """The client event ids of these events that are stored already (resent events): checked
    before anything is created for them, so a resend with another group or user creates
    neither. It looks in every month: the database's unique key also holds the time the event
    occurred (a partitioned table's keys contain its partition key), so this check is what
    makes an id count once whatever time a resend carries."""
    ids = [e.id for e in events]
    return set(
        RawEvent.objects.for_org(org)
        .filter(client_event_id__in_array=ids)
        .values_list("client_event_id", flat=True)
    )


def claim_events(org, actor, events, communities, identities) -> list:
    """Store the raw events; return those this request inserted, in time order (the others
    are duplicates: sent before, or by a racing request; the unique key makes a racing copy
    of the same event wait for the first and then skip)."""
    batch_id = uuid.uuid4()
    store_text = org.store_message_text
    rows = [
        (
            e.id,
            event_type(e),
            e.occurred_at,
            communities[(e.platform, e.community)].pk,
            identities[(e.platform, e.user)].member.pk,
            _payload(e, store_text, erased=identities[(e.platform, e.user)].member.erased_at),
        )
        for e in events
    ]
    if connection.vendor == "postgresql":
        mine = _insert_returning(org, actor, batch_id, rows)
    else:
        mine = _insert_then_read(org, actor, batch_id, rows)
    return sorted((e for e in events if e.id in mine), key=lambda e: e.occurred_at)


# One statement for the whole batch, the rows as one JSON document (COPY is refused on tables
# under row-level security), answering with the ids it stored.
_INSERT = """
INSERT INTO members_rawevent (organization_id, client_event_id, type, occurred_at, received_at,
    batch_id, api_key_id, community_id, member_id, payload)
SELECT %s, r.id, r.type, r.at, %s, %s, %s, r.community, r.member, r.payload
FROM jsonb_to_recordset(%s::jsonb)
    AS r (id varchar, type varchar, at timestamptz, community bigint, member bigint, payload jsonb)
ON CONFLICT DO NOTHING
RETURNING client_event_id
"""
_KEYS = ("id", "type", "at", "community", "member", "payload")


def _insert_returning(org, actor, batch_id, rows) -> set:
    api_key_id = actor.api_key.pk if actor.api_key is not None else None
    document = rows_json([dict(zip(_KEYS, row, strict=True)) for row in rows])
    params = [org.pk, timezone.now(), batch_id, api_key_id, document]
    with org_hint(org.pk), connection.cursor() as cursor:
        cursor.execute(_INSERT, params)
        return {row[0] for row in cursor.fetchall()}


def _insert_then_read(org, actor, batch_id, rows) -> set:
    RawEvent.objects.bulk_create(
        [
            RawEvent(
                organization=org,
                client_event_id=id_,
                type=type_,
                occurred_at=at,
                batch_id=batch_id,
                api_key=actor.api_key,
                community_id=community_id,
                member_id=member_id,
                payload=payload,
            )
            for id_, type_, at, community_id, member_id, payload in rows
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    return set(
        RawEvent.objects.for_org(org)
        .filter(batch_id=batch_id)
        .values_list("client_event_id", flat=True)
    )


def _payload(event, store_text: bool, erased=None) -> dict:
    data = msgspec.to_builtins(event)
    if not store_text:
        data.pop("text", None)  # used for rule checks only, unless the org opts in
    if erased is not None:  # a member whose personal data was erased (members/privacy.py)
        for key in ("display_name", "name_card", "text"):
            data.pop(key, None)
    return data
