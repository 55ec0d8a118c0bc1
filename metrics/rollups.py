"""Keeping the rollups right: mark what changed, recompute exactly those (community, day) pairs.

Sources, all append-only records or state with history:
- raw events (messages, check-ins, shares) by the local day they occurred;
- orders counted as bought (placed by a bot, or paid) by the local day they were placed;
- the membership history (`MembershipChange`) for joins, leaves, removals and headcount.

The marks (`DirtyDay`) are inserted by database triggers on those source tables (migration
metrics/0006), in the writing statement's transaction, so a change and its mark commit together
whichever code path wrote it: writers know nothing of the metrics. `refresh` claims marks with
SKIP LOCKED and recomputes; `refresh_marked` queues it for the organizations that have marks.
A late event only dirties its own day (and, for membership history, the day of the next change
of the same membership, whose "status before" it alters). Headcount is a running total of each
day's net change, so recomputing one day shifts the later days by the difference in one UPDATE.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractHour
from pyroaring import BitMap64

from campaigns.models import BOUGHT, Order
from communities.models import Community
from members.models import PRESENT_STATUSES, MembershipChange, RawEvent
from tenancy.rls import org_hint

from . import leaderboards
from .days import day_bounds, first_kept_day, local_day
from .models import CommunityDay, DirtyDay, MemberDay

COUNTED_EVENTS = {
    "message.posted": "messages",
    "member.checked_in": "checkins",
    "content.shared": "shares",
}
PRESENT = {str(s) for s in PRESENT_STATUSES}
REFRESH_CHUNK = 200  # (community, day) pairs per transaction


# --- marking ---------------------------------------------------------------------------------


def mark_days(org, pairs: Iterable[tuple[int, date]]) -> None:
    """Queue (community id, local day) pairs for recomputation (duplicates are free). Writes of
    source records are marked by the triggers; this is for the refresh itself (a late membership
    change alters the next one's day) and for tools that force a recomputation."""
    rows = {(c, d) for c, d in pairs if c is not None}
    if rows:
        DirtyDay.objects.bulk_create(
            [DirtyDay(organization=org, community_id=c, day=d) for c, d in sorted(rows)]
        )


def mark_instants(org, pairs: Iterable[tuple[int, datetime]]) -> None:
    mark_days(org, ((c, local_day(org, at)) for c, at in pairs if at is not None))


# --- refreshing --------------------------------------------------------------------------------


def refresh(org, *, limit: int | None = None) -> int:
    """Recompute the marked days; returns how many (community, day) pairs were recomputed."""
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            claimed = list(
                DirtyDay.objects.for_org(org)
                .select_for_update(skip_locked=True)
                .order_by("community_id", "day")
                .values_list("pk", "community_id", "day")[:REFRESH_CHUNK]
            )
            if not claimed:
                break
            by_community = defaultdict(set)
            since = first_kept_day(org)
            for _pk, community_id, day in claimed:
                # before the oldest raw events kept, a day would be counted without them: its
                # figures stay as they were (docs/scaling.md, retention)
                if since is None or day >= since:
                    by_community[community_id].add(day)
            lock_communities(org, by_community)
            for community_id, days in by_community.items():
                for day in sorted(days):
                    recompute_day(org, community_id, day)
                    done += 1
            # only the marks read above: a mark committed since belongs to records this
            # recomputation may not have seen, and stays for the next round
            DirtyDay.objects.for_org(org).filter(pk__in=[pk for pk, _c, _d in claimed]).delete()
        leaderboards.keep_ready(org, by_community)
    return done


def lock_communities(org, community_ids) -> None:
    """One refresher or rebuild per group at a time: headcount is a running total across days.
    FOR NO KEY UPDATE: it excludes another refresher but not the key-share locks of foreign-key
    checks, so ingestion into the group never waits for a refresh."""
    list(
        Community.objects.for_org(org)
        .filter(pk__in=community_ids)
        .select_for_update(no_key=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rebuild(org) -> int:
    """Throw the rollups away and recompute every group from its source records."""
    from .rebuild import rebuild_org  # rebuild builds on this module's counting helpers

    # its bulk INSERTs are raw SQL: name the organization to row-level security (a scope wins)
    with org_hint(org.pk):
        return rebuild_org(org)


def recompute_day(org, community_id: int, day: date) -> CommunityDay | None:
    start, end = day_bounds(org, day)
    members: dict[int, dict] = defaultdict(blank_member_day)
    _count_events(org, community_id, start, end, members)
    _count_orders(org, community_id, start, end, members)
    flips = _membership_flips(org, community_id, start, end)

    MemberDay.objects.for_org(org).filter(community_id=community_id, day=day).delete()
    MemberDay.objects.bulk_create(
        [
            MemberDay(organization=org, community_id=community_id, day=day, member_id=m, **row)
            for m, row in members.items()
        ],
        batch_size=2000,
    )
    return _write_community_day(org, community_id, day, members, flips, start, end)


def blank_member_day() -> dict:
    return {
        "messages": 0,
        "checkins": 0,
        "shares": 0,
        "orders": 0,
        "spend": Decimal("0"),
        "first_at": None,
        "last_at": None,
    }


def add_events(row: dict, kind: str, n: int, first: datetime, last: datetime) -> None:
    """Count `n` events of a kind ("messages", "checkins", "shares") on a member-day."""
    row[kind] += n
    _seen(row, first, last)


def add_orders(row: dict, n: int, spend, first: datetime, last: datetime) -> None:
    row["orders"] += n
    row["spend"] += spend or Decimal("0")
    _seen(row, first, last)


def _seen(row: dict, first: datetime, last: datetime) -> None:
    row["first_at"] = min(filter(None, [row["first_at"], first]))
    row["last_at"] = max(filter(None, [row["last_at"], last]))


def _count_events(org, community_id, start, end, members) -> None:
    rows = (
        RawEvent.objects.for_org(org)
        .filter(
            community_id=community_id,
            type__in=COUNTED_EVENTS,
            occurred_at__gte=start,
            occurred_at__lt=end,
            member__isnull=False,
        )
        .values("member_id", "type")
        .annotate(n=Count("pk"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by()
    )
    for r in rows:
        add_events(
            members[r["member_id"]], COUNTED_EVENTS[r["type"]], r["n"], r["first"], r["last"]
        )


def _count_orders(org, community_id, start, end, members) -> None:
    rows = (
        Order.objects.for_org(org)
        .filter(
            community_id=community_id,
            status__in=BOUGHT,
            placed_at__gte=start,
            placed_at__lt=end,
        )
        .values("member_id")
        .annotate(n=Count("pk"), spend=Sum("amount"), first=Min("placed_at"), last=Max("placed_at"))
        .order_by()
    )
    for r in rows:
        add_orders(members[r["member_id"]], r["n"], r["spend"], r["first"], r["last"])


def _membership_flips(org, community_id, start, end) -> dict:
    """Joins, leaves and removals that changed headcount on the day: a change counts when it
    moves a membership between "in the group" and "not in it", judged against the change just
    before it in time (so a late record is placed where it happened, not where it arrived)."""
    changes = MembershipChange.objects.for_org(org)
    before = (
        changes.filter(membership_id=OuterRef("membership_id"))
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
        )
        .order_by("-created_at", "-pk")
        .values("to_status")[:1]
    )
    rows = (
        changes.filter(
            membership__community_id=community_id, created_at__gte=start, created_at__lt=end
        )
        .annotate(prev=Subquery(before))
        .values_list("membership_id", "membership__member_id", "to_status", "reason", "prev")
    )
    flips = no_flips()
    touched = set()
    for membership_id, member_id, to_status, reason, prev in rows:
        touched.add(membership_id)
        count_flip(flips, member_id, to_status, reason, prev)
    if touched:
        # the next change of each of these memberships was judged against what came before
        # it; if a late record landed in between, that day's count changes too
        later = (
            changes.filter(membership_id__in=touched, created_at__gte=end)
            .values("membership__community_id")
            .annotate(first=Min("created_at"))
            .order_by()
        )
        mark_instants(org, ((r["membership__community_id"], r["first"]) for r in later))
    return flips


def no_flips() -> dict:
    return {"joins": 0, "leaves": 0, "removals": 0, "joined": BitMap64(), "reasons": Counter()}


def count_flip(flips: dict, member_id, to_status, reason, prev) -> None:
    """Count one membership change on its day if it moved the member in or out of the group
    (`prev`: the status the change before it left)."""
    was, now = prev in PRESENT, to_status in PRESENT
    if now and not was:
        flips["joins"] += 1
        flips["joined"].add(member_id)
    elif was and not now:
        if to_status == "removed":
            flips["removals"] += 1
        else:
            flips["leaves"] += 1
            flips["reasons"][reason or "unknown"] += 1


def day_is_empty(members: dict, flips: dict) -> bool:
    """Nothing counted that day: no group-day row (only changes that kept members in or out)."""
    return not members and not (flips["joins"] or flips["leaves"] or flips["removals"])


def _hours(org, community_id, start, end) -> list[int]:
    hours = [0] * 24
    rows = (
        RawEvent.objects.for_org(org)
        .filter(
            community_id=community_id,
            type="message.posted",
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .annotate(h=ExtractHour("occurred_at", tzinfo=org.tzinfo))
        .values("h")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in rows:
        hours[r["h"]] += r["n"]
    return hours


def day_values(members: dict, flips: dict, hours: list[int]) -> dict:
    """A group-day's figures (all but the running headcount) from its member-days and the
    membership changes that moved people in or out."""

    def ids(predicate) -> bytes:
        return BitMap64(m for m, row in members.items() if predicate(row)).serialize()

    return {
        "net": flips["joins"] - flips["leaves"] - flips["removals"],
        "joins": flips["joins"],
        "leaves": flips["leaves"],
        "removals": flips["removals"],
        "leave_reasons": dict(flips["reasons"]),
        "joined_ids": flips["joined"].serialize(),
        "messages": sum(r["messages"] for r in members.values()),
        "speakers": sum(1 for r in members.values() if r["messages"]),
        "active": len(members),
        "buyers": sum(1 for r in members.values() if r["orders"]),
        "repeat_buyers": sum(1 for r in members.values() if r["orders"] >= 2),
        "orders": sum(r["orders"] for r in members.values()),
        "revenue": sum((r["spend"] for r in members.values()), Decimal("0")),
        "speaker_ids": ids(lambda r: r["messages"]),
        "active_ids": ids(lambda r: True),
        "buyer_ids": ids(lambda r: r["orders"]),
        "repeat_ids": ids(lambda r: r["orders"] >= 2),
        "hours": hours,
    }


def _write_community_day(org, community_id, day, members, flips, start, end):
    values = day_values(members, flips, _hours(org, community_id, start, end))
    net = values["net"]
    rows = CommunityDay.objects.for_org(org).filter(community_id=community_id)
    existing = rows.filter(day=day).first()
    old_net = existing.net if existing else 0
    base = (
        rows.filter(day__lt=day).order_by("-day").values_list("members_end", flat=True).first() or 0
    )
    values["members_end"] = base + net
    if day_is_empty(members, flips):
        # nothing happened that day (any more): no row, as a rebuild would leave it
        result = None
        if existing:
            existing.delete()
    elif existing:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        result = existing
    else:
        result = CommunityDay.objects.create(
            organization=org, community_id=community_id, day=day, **values
        )
    if net != old_net:
        rows.filter(day__gt=day).update(members_end=F("members_end") + (net - old_net))
    return result


# --- after writes ------------------------------------------------------------------------------

REFRESH_DEBOUNCE_SECONDS = 30


def enqueue_refresh(org_id) -> None:
    """Queue a refresh of the organization's marked days, at most one every half minute."""
    from django.core.cache import cache

    from .tasks import refresh_rollups  # the tasks module imports this one

    if cache.add(f"metrics:refresh:{org_id}", 1, timeout=REFRESH_DEBOUNCE_SECONDS):
        refresh_rollups.delay(org_id)
