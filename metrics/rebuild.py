"""Rebuilding a group's rollups from its source records in a handful of queries.

`rollups.recompute_day` answers "this one day changed" with about a dozen queries; rebuilding
every day that way costs minutes per group. Here each source is read once per group, grouped
by local day (events, orders, messages per hour, membership history with the status before each
change from a window function), and the member-days and group-days are written in bulk. The
figures are the same as the incremental ones: `tests/metrics` checks a rebuild against them.

Each group is rebuilt in its own transaction under the same group lock as `rollups.refresh`, so
writers never wait and dashboards never see a group half-empty. Marks committed while a group is
rebuilt stay queued and are refreshed at the end.

Raw events older than the oldest month still stored (members/partitions.py: months past every
organization's retention are dropped) cannot be counted again: the rebuild reads events from
the first whole local day of that month on (so the planner reads only the partitions kept),
rewrites the days from there, and leaves the days before as they were computed when their
events were there. The membership history is never dropped: the running headcount still
counts every change from the first one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import groupby
from operator import itemgetter

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Sum, Window
from django.db.models.functions import ExtractHour, Lag, TruncDate

from campaigns.models import BOUGHT, Order
from communities.models import Community
from members.models import MembershipChange, RawEvent

from . import leaderboards
from .days import day_start, first_kept_day
from .models import CommunityDay, DirtyDay, MemberDay
from .rollups import (
    COUNTED_EVENTS,
    add_events,
    add_orders,
    blank_member_day,
    count_flip,
    day_is_empty,
    day_values,
    lock_communities,
    no_flips,
    refresh,
)

INSERT_BATCH = 2000


def rebuild_org(org) -> int:
    """Recompute every group of the org from scratch; returns the group-days written."""
    community_ids = list(Community.objects.for_org(org).order_by("pk").values_list("pk", flat=True))
    written = sum(rebuild_community(org, community_id) for community_id in community_ids)
    refresh(org)  # what was written meanwhile
    leaderboards.keep_ready(org, community_ids)
    return written


def rebuild_community(org, community_id: int) -> int:
    with transaction.atomic():
        lock_communities(org, [community_id])
        # Marks committed before the sources are read below are answered by this rebuild. A
        # mark another refresher has claimed is left to it (waiting for it here could deadlock:
        # it claims marks before it locks the group).
        answered = list(
            DirtyDay.objects.for_org(org)
            .filter(community_id=community_id)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        orders_by_day = defaultdict(list)
        for day, *order in _orders(org, community_id):
            orders_by_day[day].append(order)
        since = first_kept_day(org)
        writer = _GroupWriter(
            org,
            community_id,
            orders_by_day,
            _flips(org, community_id),
            _hours(org, community_id, since),
            since,
        )
        kept = {"day__gte": since} if since else {}
        MemberDay.objects.for_org(org).filter(community_id=community_id, **kept).delete()
        CommunityDay.objects.for_org(org).filter(community_id=community_id, **kept).delete()
        # events stream in day order: a group with millions of them never sits in memory
        for day, rows in groupby(_events(org, community_id, since), key=itemgetter(0)):
            writer.day(day, rows)
        writer.finish()
        DirtyDay.objects.for_org(org).filter(pk__in=answered).delete()
    return writer.group_days_written


class _GroupWriter:
    """Writes one group's days in order: member-days in large INSERTs, group-days with the
    running headcount. Days with orders or membership changes but no events come in between."""

    def __init__(self, org, community_id, orders_by_day, flips_by_day, hours_by_day, since):
        self.org, self.community_id, self.since = org, community_id, since
        self.orders_by_day, self.flips_by_day = orders_by_day, flips_by_day
        self.hours_by_day = hours_by_day
        self.quiet_days = sorted(set(orders_by_day) | set(flips_by_day))
        self.next_quiet = 0
        self.headcount = 0
        self.member_rows: list[tuple] = []
        self.group_days: list[CommunityDay] = []
        self.group_days_written = 0

    def day(self, day, event_rows) -> None:
        self._days_up_to(day)
        members = defaultdict(blank_member_day)
        for _day, member_id, kind, n, first, last in event_rows:
            add_events(members[member_id], kind, n, first, last)
        self._write(day, members)

    def finish(self) -> None:
        self._days_up_to(date.max)
        self._flush()

    def _days_up_to(self, day) -> None:
        """The days before `day` that had no events (`day` itself is written by the caller)."""
        while self.next_quiet < len(self.quiet_days) and self.quiet_days[self.next_quiet] <= day:
            if self.quiet_days[self.next_quiet] < day:
                self._write(self.quiet_days[self.next_quiet], defaultdict(blank_member_day))
            self.next_quiet += 1

    def _write(self, day, members) -> None:
        for member_id, n, spend, first, last in self.orders_by_day.get(day, ()):
            add_orders(members[member_id], n, spend, first, last)
        flips = self.flips_by_day.get(day) or no_flips()
        if self.since and day < self.since:  # kept as it is; only its headcount change counts
            self.headcount += flips["joins"] - flips["leaves"] - flips["removals"]
            return
        if day_is_empty(members, flips):
            return
        values = day_values(members, flips, self.hours_by_day.get(day, [0] * 24))
        self.headcount += values["net"]
        self.group_days.append(
            CommunityDay(
                organization=self.org,
                community_id=self.community_id,
                day=day,
                members_end=self.headcount,
                **values,
            )
        )
        self.member_rows += [
            (self.org.pk, self.community_id, day, m, r["messages"], r["checkins"], r["shares"])
            + (r["orders"], r["spend"], r["first_at"], r["last_at"])
            for m, r in members.items()
        ]
        if len(self.member_rows) >= UNNEST_CHUNK or len(self.group_days) >= INSERT_BATCH:
            self._flush()

    def _flush(self) -> None:
        _insert_member_days(self.member_rows)
        CommunityDay.objects.bulk_create(self.group_days)
        self.group_days_written += len(self.group_days)
        self.member_rows, self.group_days = [], []


MEMBER_DAY_COLUMNS = {
    "organization_id": "bigint",
    "community_id": "bigint",
    "day": "date",
    "member_id": "bigint",
    "messages": "integer",
    "checkins": "integer",
    "shares": "integer",
    "orders": "integer",
    "spend": "numeric",
    "first_at": "timestamptz",
    "last_at": "timestamptz",
}
UNNEST_CHUNK = 50_000


def _insert_member_days(rows: list[tuple]) -> None:
    """Rows in the order of MEMBER_DAY_COLUMNS."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        fields = list(MEMBER_DAY_COLUMNS)
        MemberDay.objects.bulk_create(
            [MemberDay(**dict(zip(fields, row, strict=True))) for row in rows],
            batch_size=INSERT_BATCH,
        )
        return
    # One INSERT … SELECT FROM unnest(arrays): a large group has hundreds of thousands of
    # member-days, and preparing them as model instances costs far more than writing them.
    # (Not COPY: it is refused on tables under row-level security.)
    table = MemberDay._meta.db_table
    columns = ", ".join(MEMBER_DAY_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in MEMBER_DAY_COLUMNS.values())
    sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _local_day(org, field):
    return TruncDate(field, tzinfo=org.tzinfo)


def _kept(org, since) -> dict:
    return {"occurred_at__gte": day_start(org, since)} if since else {}


def _events(org, community_id, since=None):
    rows = (
        RawEvent.objects.for_org(org)
        .filter(
            community_id=community_id,
            type__in=COUNTED_EVENTS,
            member__isnull=False,
            **_kept(org, since),
        )
        .annotate(d=_local_day(org, "occurred_at"))
        .values("d", "member_id", "type")
        .annotate(n=Count("pk"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("d")
    )
    for r in rows.iterator(chunk_size=20_000):
        yield r["d"], r["member_id"], COUNTED_EVENTS[r["type"]], r["n"], r["first"], r["last"]


def _orders(org, community_id):
    rows = (
        Order.objects.for_org(org)
        .filter(community_id=community_id, status__in=BOUGHT)
        .annotate(d=_local_day(org, "placed_at"))
        .values("d", "member_id")
        .annotate(n=Count("pk"), spend=Sum("amount"), first=Min("placed_at"), last=Max("placed_at"))
        .order_by()
    )
    for r in rows:
        yield r["d"], r["member_id"], r["n"], r["spend"], r["first"], r["last"]


def _hours(org, community_id, since=None) -> dict:
    hours: dict = defaultdict(lambda: [0] * 24)
    rows = (
        RawEvent.objects.for_org(org)
        .filter(community_id=community_id, type="message.posted", **_kept(org, since))
        .annotate(d=_local_day(org, "occurred_at"), h=ExtractHour("occurred_at", tzinfo=org.tzinfo))
        .values("d", "h")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in rows:
        hours[r["d"]][r["h"]] += r["n"]
    return hours


def _flips(org, community_id) -> dict:
    """Per local day, the changes that moved a membership in or out of the group, each judged
    against the change just before it in time (as `rollups._membership_flips`)."""
    rows = (
        MembershipChange.objects.for_org(org)
        .filter(membership__community_id=community_id)
        .annotate(
            prev=Window(
                Lag("to_status"),
                partition_by=[F("membership_id")],
                order_by=[F("created_at").asc(), F("pk").asc()],
            ),
            d=_local_day(org, "created_at"),
        )
        .values_list("d", "membership__member_id", "to_status", "reason", "prev")
    )
    by_day: dict = defaultdict(no_flips)
    for day, member_id, to_status, reason, prev in rows:
        count_flip(by_day[day], member_id, to_status, reason, prev)
    return by_day
