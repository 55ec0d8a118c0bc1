"""Brute force: the metrics computed straight from the raw records, in plain Python, with the
local day of every instant taken one by one (no rollups, no SQL date arithmetic)."""

from collections import Counter
from datetime import date
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
    # in the group at some time in the window: present when it began, plus each move into
    # the group during it
    before, reached = {}, 0
    for membership_id, to_status, at in changes:
        day = _local(org, at)
        was = before.get(membership_id, "") in present
        if day < first:
            before[membership_id] = to_status
            continue
        if day <= last and to_status in present and not was:
            reached += 1
        before[membership_id] = to_status
    reached += sum(
        1
        for membership_id, status in _status_before(org, changes, first).items()
        if status in present
    )

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
        "reached": reached,
        "speakers": len(speakers),
        "buyers": len(orders),
        "repeat_buyers": sum(1 for n in orders.values() if n >= 2),
    }


def _status_before(org, changes, first: date) -> dict:
    """Each membership's status at the end of the day before `first`."""
    state = {}
    for membership_id, to_status, at in changes:
        if _local(org, at) < first:
            state[membership_id] = to_status
    return state
