"""Random group histories for the property tests: events through the real ingestion path,
rollups refreshed, and the brute-force readings of the raw records they are checked against
(plain Python, the local day of every instant taken one by one)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from campaigns.models import BOUGHT, Order
from ingestion.pipeline import ingest_events
from members.models import RawEvent
from metrics import rollups
from tenancy.actors import Actor

# March 2026, and a few days either side: the month-end edges in every zone.
BASE = datetime(2026, 2, 26, 0, 0, tzinfo=UTC)
SPAN_DAYS = 38
ZONES = ["Asia/Shanghai", "America/New_York", "UTC"]
USERS = [f"u{n}" for n in range(7)]
GROUPS = ["g1", "g2", "g3"]
COUNTED = ("message.posted", "member.checked_in", "content.shared")


@st.composite
def histories(draw, max_events=60):
    events, orders = [], []
    for n in range(draw(st.integers(min_value=1, max_value=max_events))):
        kind = draw(
            st.sampled_from(
                ["message.posted"] * 4
                + ["member.checked_in", "content.shared", "order.placed"] * 2
                + ["member.joined", "member.left", "order.refunded"]
            )
        )
        day = draw(st.integers(min_value=0, max_value=SPAN_DAYS - 1))
        minute = draw(
            st.one_of(
                st.integers(min_value=0, max_value=24 * 60 - 1),
                st.sampled_from([0, 1, 4 * 60 - 1, 4 * 60, 5 * 60, 16 * 60 - 1, 16 * 60]),
            )
        )
        event = {
            "id": f"e{n}",
            "type": kind,
            "occurred_at": (BASE + timedelta(days=day, minutes=minute)).isoformat(),
            "community": draw(st.sampled_from(GROUPS)),
            "user": draw(st.sampled_from(USERS)),
        }
        if kind == "order.placed":
            event["order_id"] = f"o{n}"
            event["amount"] = str(draw(st.integers(min_value=1, max_value=300)))
            orders.append((event["order_id"], event["community"], event["user"]))
        if kind == "order.refunded":
            if not orders:
                continue
            order_id, community, user = draw(st.sampled_from(orders))
            event.update(order_id=order_id, community=community, user=user)
        events.append(event)
    return {"zone": draw(st.sampled_from(ZONES)), "events": events}


def load(tenant, history) -> None:
    org = tenant.org
    org.time_zone = history["zone"]
    org.save(update_fields=["time_zone"])
    actor = Actor.for_api_key(tenant.api_key)
    actor.organization = org
    result = ingest_events(actor=actor, raw_events=history["events"])
    assert not result.rejected, result.rejected
    rollups.refresh(org)


def _local(org, instant) -> date:
    return instant.astimezone(ZoneInfo(org.time_zone)).date()


def active_days(org, community_ids, first: date, last: date) -> dict:
    """{(community id, member id): {"days": set of local days, "messages", "checkins",
    "shares"}}: days with a counted event or a bought order."""
    found = defaultdict(lambda: {"days": set(), "messages": 0, "checkins": 0, "shares": 0})
    names = {
        "message.posted": "messages",
        "member.checked_in": "checkins",
        "content.shared": "shares",
    }
    for community_id, member_id, kind, at in (
        RawEvent.objects.for_org(org)
        .filter(community_id__in=community_ids, type__in=COUNTED, member__isnull=False)
        .values_list("community_id", "member_id", "type", "occurred_at")
    ):
        day = _local(org, at)
        if first <= day <= last:
            row = found[(community_id, member_id)]
            row["days"].add(day)
            row[names[kind]] += 1
    for community_id, member_id, at in (
        Order.objects.for_org(org)
        .filter(community_id__in=community_ids, status__in=BOUGHT)
        .values_list("community_id", "member_id", "placed_at")
    ):
        day = _local(org, at)
        if first <= day <= last:
            found[(community_id, member_id)]["days"].add(day)
    return found


def revenue(org, community_ids, first: date, last: date) -> Decimal:
    return sum(
        (
            amount
            for amount, at in Order.objects.for_org(org)
            .filter(community_id__in=community_ids, status__in=BOUGHT)
            .values_list("amount", "placed_at")
            if first <= _local(org, at) <= last
        ),
        Decimal("0"),
    )
