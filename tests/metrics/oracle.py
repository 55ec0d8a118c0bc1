"""Brute force: the metrics computed straight from the raw records, in plain Python, with the
local day of every instant taken one by one (no rollups, no SQL date arithmetic)."""

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from campaigns.models import Order
from members.models import PRESENT_STATUSES, MembershipChange, RawEvent


def _local(org, instant) -> date:
    return instant.astimezone(ZoneInfo(org.time_zone)).date()


def brute_force(org, community, first: date, last: date) -> dict:
    present = {str(s) for s in PRESENT_STATUSES}
    # headcount at the end of `last`: each membership's latest status by then
    state = {}
    changes = (
        MembershipChange.objects.for_org(org)
        .filter(membership__community=community)
        .order_by("created_at", "pk")
        .values_list("membership_id", "to_status", "created_at")
    )
    for membership_id, to_status, at in changes:
        if _local(org, at) <= last:
            state[membership_id] = to_status
    members = sum(1 for status in state.values() if status in present)

    speakers = {
        member_id
        for member_id, at in RawEvent.objects.for_org(org)
        .filter(community=community, type="message.posted")
        .values_list("member_id", "occurred_at")
        if first <= _local(org, at) <= last
    }
    orders = Counter(
        member_id
        for member_id, at in Order.objects.for_org(org)
        .filter(community=community, status__in=["placed", "paid"])
        .values_list("member_id", "placed_at")
        if first <= _local(org, at) <= last
    )
    return {
        "members": members,
        "speakers": len(speakers),
        "buyers": len(orders),
        "repeat_buyers": sum(1 for n in orders.values() if n >= 2),
    }


COUNTED = {
    "message.posted": "messages",
    "member.checked_in": "checkins",
    "content.shared": "shares",
}


def brute_force_days(org, community) -> tuple[dict, dict]:
    """Every rollup row of a group, straight from the records: ({(day, member id): member-day},
    {day: group-day}), with the member sets as Python sets. A group-day exists when someone
    was active or a membership moved in or out of the group that day."""
    from members.models import Membership

    present = {str(s) for s in PRESENT_STATUSES}
    member_days: dict = {}

    def member_day(day, member_id) -> dict:
        return member_days.setdefault(
            (day, member_id),
            dict.fromkeys(("messages", "checkins", "shares", "orders"), 0)
            | {"spend": Decimal("0"), "first_at": None, "last_at": None},
        )

    def seen(row, at) -> None:
        row["first_at"] = min(filter(None, [row["first_at"], at]))
        row["last_at"] = max(filter(None, [row["last_at"], at]))

    hours: dict = defaultdict(lambda: [0] * 24)
    events = RawEvent.objects.for_org(org).filter(community=community)
    for kind, member_id, at in events.values_list("type", "member_id", "occurred_at"):
        local = at.astimezone(ZoneInfo(org.time_zone))
        if kind == "message.posted":
            hours[local.date()][local.hour] += 1
        if kind in COUNTED and member_id is not None:
            row = member_day(local.date(), member_id)
            row[COUNTED[kind]] += 1
            seen(row, at)
    orders = Order.objects.for_org(org).filter(community=community, status__in=["placed", "paid"])
    for member_id, amount, at in orders.values_list("member_id", "amount", "placed_at"):
        row = member_day(_local(org, at), member_id)
        row["orders"] += 1
        row["spend"] += amount
        seen(row, at)

    flips: dict = defaultdict(
        lambda: {"joins": 0, "leaves": 0, "removals": 0, "joined": set(), "reasons": Counter()}
    )
    owner = dict(
        Membership.objects.for_org(org).filter(community=community).values_list("pk", "member_id")
    )
    history = defaultdict(list)
    for row in (
        MembershipChange.objects.for_org(org)
        .filter(membership__community=community)
        .values_list("membership_id", "created_at", "pk", "to_status", "reason")
    ):
        history[row[0]].append(row[1:])
    timeline = []  # (local day, instant, pk, membership, in the group after it)
    for membership_id, changes in history.items():
        was = False
        for at, pk, to_status, reason in sorted(changes):
            now, day = to_status in present, _local(org, at)
            timeline.append((day, at, pk, membership_id, now))
            if now and not was:
                flips[day]["joins"] += 1
                flips[day]["joined"].add(owner[membership_id])
            elif was and not now:
                if to_status == "removed":
                    flips[day]["removals"] += 1
                else:
                    flips[day]["leaves"] += 1
                    flips[day]["reasons"][reason or "unknown"] += 1
            was = now

    active_days = {day for day, _m in member_days}
    days = active_days | {d for d, f in flips.items() if f["joins"] or f["leaves"] or f["removals"]}
    group_days = {}
    for day in sorted(days):
        rows = {m: r for (d, m), r in member_days.items() if d == day}
        state = {}
        for d, _at, _pk, membership_id, now in sorted(timeline):
            if d <= day:
                state[membership_id] = now  # its latest change by the end of the day
        f = flips[day]
        group_days[day] = {
            "members_end": sum(state.values()),
            "joins": f["joins"],
            "leaves": f["leaves"],
            "removals": f["removals"],
            "leave_reasons": dict(f["reasons"]),
            "joined_ids": f["joined"],
            "messages": sum(r["messages"] for r in rows.values()),
            "speakers": sum(1 for r in rows.values() if r["messages"]),
            "active": len(rows),
            "buyers": sum(1 for r in rows.values() if r["orders"]),
            "repeat_buyers": sum(1 for r in rows.values() if r["orders"] >= 2),
            "orders": sum(r["orders"] for r in rows.values()),
            "revenue": sum((r["spend"] for r in rows.values()), Decimal("0")),
            "speaker_ids": {m for m, r in rows.items() if r["messages"]},
            "active_ids": set(rows),
            "buyer_ids": {m for m, r in rows.items() if r["orders"]},
            "repeat_ids": {m for m, r in rows.items() if r["orders"] >= 2},
            "hours": hours[day],
        }
    return member_days, group_days
