"""Property: every rate read from the rollups equals a brute-force computation over the raw
records, on random histories: several time zones (one with a DST switch inside the data), events
near local midnight, batches arriving out of order (late events), refunds of orders placed on
other days, members leaving and coming back."""

import os
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communities.models import Community
from ingestion.pipeline import ingest_events
from metrics import rollups
from metrics.rates import total, window_rates
from metrics.selectors import _daily_series
from metrics.windows import Window
from tenancy.actors import Actor

from .oracle import brute_force

ZONES = ["Asia/Shanghai", "America/New_York", "Pacific/Auckland", "UTC"]
BASE = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # the US switches to summer time on March 8
SPAN_DAYS = 12
USERS = [f"u{n}" for n in range(6)]
GROUPS = ["g1", "g2"]


@st.composite
def histories(draw):
    events = []
    orders = []
    for n in range(draw(st.integers(min_value=1, max_value=40))):
        kind = draw(
            st.sampled_from(
                ["message.posted"] * 4
                + ["member.joined", "member.left", "member.checked_in", "order.placed"] * 1
                + ["order.refunded"]
            )
        )
        # minutes from BASE, with a bias to the hours around midnight in every zone
        day = draw(st.integers(min_value=0, max_value=SPAN_DAYS - 1))
        minute = draw(
            st.one_of(
                st.integers(min_value=0, max_value=24 * 60 - 1),
                st.sampled_from([0, 1, 59, 60, 4 * 60 - 1, 4 * 60, 5 * 60, 11 * 60 + 59, 16 * 60]),
            )
        )
        event = {
            "id": f"e{n}",
            "type": kind,
            "occurred_at": (BASE + timedelta(days=day, minutes=minute)).isoformat(),
            "community": draw(st.sampled_from(GROUPS)),
            "user": draw(st.sampled_from(USERS)),
        }
        if kind == "member.left":
            event["reason"] = draw(st.sampled_from(["", "too_many_ads", "no_benefits"]))
        if kind == "order.placed":
            event["order_id"] = f"o{n}"
            event["amount"] = str(draw(st.integers(min_value=1, max_value=500)))
            orders.append((event["order_id"], event["community"], event["user"]))
        if kind == "order.refunded":
            if not orders:
                continue
            order_id, community, user = draw(st.sampled_from(orders))
            event.update(order_id=order_id, community=community, user=user)
        events.append(event)
    order = draw(st.permutations(range(len(events))))
    cuts = sorted(draw(st.lists(st.integers(0, len(events)), max_size=3)))
    batches, previous = [], 0
    for cut in [*cuts, len(events)]:
        batches.append([events[i] for i in order[previous:cut]])
        previous = cut
    first = draw(st.integers(min_value=-1, max_value=SPAN_DAYS))
    length = draw(st.integers(min_value=1, max_value=SPAN_DAYS + 2))
    return {
        "zone": draw(st.sampled_from(ZONES)),
        "batches": [b for b in batches if b],
        "window": (first, length),
        "rebuild": draw(st.booleans()),
    }


class Rollback(Exception):
    pass


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_rates_from_rollups_match_brute_force(org_a, history):
    try:
        with transaction.atomic():
            _check(org_a, history)
            raise Rollback
    except Rollback:
        pass


def _check(tenant, history):
    org = tenant.org
    org.time_zone = history["zone"]
    org.save(update_fields=["time_zone"])
    actor = Actor.for_api_key(tenant.api_key)
    actor.organization = org
    for batch in history["batches"]:
        result = ingest_events(actor=actor, raw_events=batch)
        assert not result.rejected, result.rejected
        rollups.refresh(org)  # incremental, between batches: later batches arrive late
    if history["rebuild"]:
        incremental = _snapshot(org)
        rollups.rebuild(org)
        assert _snapshot(org) == incremental
    first_offset, length = history["window"]
    start = date(2026, 3, 2) + timedelta(days=first_offset)
    window = Window(start, start + timedelta(days=length - 1))
    groups = list(Community.objects.for_org(org).order_by("pk"))
    (rates,) = window_rates(org, [g.pk for g in groups], window)
    for group in groups:
        expected = brute_force(org, group, window.start, window.end)
        got = rates[group.pk]
        assert {
            "members": got.members,
            "reached": got.reached,
            "speakers": got.speakers,
            "buyers": got.buyers,
            "repeat_buyers": got.repeat_buyers,
        } == expected, (group.external_id, window)
    # a rate is a share of people: never above 100%, for a group, all groups, or one day
    for got in [*rates.values(), total(rates)]:
        _assert_shares(got.activity, got.conversion, got.repurchase)
    for days in _daily_series(org, [g.pk for g in groups], window).values():
        for day in days:
            _assert_shares(day["activity_rate"], day["conversion_rate"])


def _assert_shares(*rates):
    for rate in rates:
        assert rate is None or 0 <= rate <= 1, rates


def _snapshot(org):
    from metrics.models import CommunityDay, MemberDay

    days = sorted(
        CommunityDay.objects.for_org(org).values_list(
            "community_id", "day", "members_end", "speakers", "buyers", "orders", "revenue"
        )
    )
    members = sorted(
        MemberDay.objects.for_org(org).values_list(
            "community_id", "day", "member_id", "messages", "checkins", "orders", "spend"
        )
    )
    return days, members
