"""The three rates of seed 002, read from `CommunityDay` rollups.

- activity rate = distinct members who posted in the window ÷ members in the window
- conversion = distinct buyers in the window ÷ members in the window
- repurchase = buyers with two or more orders in the window ÷ buyers in the window

"Members in the window" are the people who were in the group at some time in it: those there
when it started plus those who joined during it. Someone who posted or bought and then left is
in both the numerator and the denominator, so no rate can pass 100% (dividing by the headcount
at the end did: a group that lost members showed 111%). A history that reached us out of order
(a message older than the join it needed) still counts its speakers and buyers as members.

Distinct counts are exact: each day keeps the member ids behind its counts as a roaring bitmap,
and a window is the union of its days. "Two or more orders in the window" composes day by day:
a member is a repeat buyer if they bought twice on one day or bought on two different days.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import OuterRef, Subquery, Sum
from pyroaring import BitMap64

from communities.models import Community

from .models import CommunityDay, Leaderboard
from .windows import PRESETS, Window


@dataclass
class Sets:
    """Member sets of one community over some days."""

    speakers: BitMap64 = field(default_factory=BitMap64)
    buyers: BitMap64 = field(default_factory=BitMap64)
    repeat: BitMap64 = field(default_factory=BitMap64)

    def add_day(self, speaker_ids: bytes, buyer_ids: bytes, repeat_ids: bytes) -> None:
        self.speakers |= _load(speaker_ids)
        day_buyers = _load(buyer_ids)
        self.repeat |= _load(repeat_ids) | (self.buyers & day_buyers)
        self.buyers |= day_buyers

    def dump(self) -> bytes:
        parts = [b.serialize() for b in (self.speakers, self.buyers, self.repeat)]
        return b"".join(struct.pack("<I", len(p)) + p for p in parts)

    @classmethod
    def load(cls, blob) -> Sets:
        blob, parts, offset = bytes(blob), [], 0
        for _ in range(3):
            (size,) = struct.unpack_from("<I", blob, offset)
            parts.append(BitMap64.deserialize(blob[offset + 4 : offset + 4 + size]))
            offset += 4 + size
        return cls(*parts)


@dataclass
class Rates:
    members: int  # at the end of the window: the headcount shown
    speakers: int
    buyers: int
    repeat_buyers: int
    # in the group at some time in the window (None: the headcount at the end, for callers
    # that build Rates by hand)
    reached: int | None = None
    # speakers ∪ buyers, when known
    engaged: int | None = None

    @property
    def base(self) -> int:
        """The denominator of the activity and conversion rates: everyone who was in the group
        during the window, and never fewer than the people who posted or bought in it."""
        reached = self.members if self.reached is None else self.reached
        engaged = self.engaged if self.engaged is not None else max(self.speakers, self.buyers)
        return max(reached, engaged)

    @property
    def activity(self) -> float | None:
        return _ratio(self.speakers, self.base)

    @property
    def conversion(self) -> float | None:
        return _ratio(self.buyers, self.base)

    @property
    def repurchase(self) -> float | None:
        return _ratio(self.repeat_buyers, self.buyers)

    def as_dict(self) -> dict:
        return {
            "members": self.members,
            "members_in_window": self.base,
            "speakers": self.speakers,
            "buyers": self.buyers,
            "repeat_buyers": self.repeat_buyers,
            "activity_rate": self.activity,
            "conversion_rate": self.conversion,
            "repurchase_rate": self.repurchase,
        }


RATE_NAMES = ("activity", "conversion", "repurchase")


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _load(blob) -> BitMap64:
    return BitMap64.deserialize(bytes(blob)) if blob else BitMap64()


def members_at(org, community_ids, day: date) -> dict[int, int]:
    """Members in each group at the end of `day` (the latest rollup on or before it)."""
    latest = (
        CommunityDay.objects.for_org(org)
        .filter(community_id=OuterRef("pk"), day__lte=day)
        .order_by("-day")
        .values("members_end")[:1]
    )
    rows = (
        Community.objects.for_org(org)
        .filter(pk__in=community_ids)
        .annotate(members=Subquery(latest))
        .values_list("pk", "members")
    )
    return {pk: members or 0 for pk, members in rows}


def members_reached(org, community_ids, window: Window) -> dict[int, int]:
    """Per group, who was in it at some time in the window: the headcount when it started plus
    the joins during it (a member who left and rejoined inside it counts twice, which can only
    lower a rate)."""
    community_ids = list(community_ids)
    if not community_ids:
        return {}
    opening = members_at(org, community_ids, window.start - timedelta(days=1))
    joins = dict(
        CommunityDay.objects.for_org(org)
        .filter(community_id__in=community_ids, day__gte=window.start, day__lte=window.end)
        .values("community_id")
        .annotate(n=Sum("joins"))
        .values_list("community_id", "n")
        .order_by()
    )
    return {c: opening.get(c, 0) + (joins.get(c) or 0) for c in community_ids}


def window_sets(org, community_ids, *windows: Window) -> list[dict[int, Sets]]:
    """Each window's member sets per group, merged from the day rows (one query)."""
    sets = [defaultdict(Sets) for _ in windows]
    community_ids = list(community_ids)
    if not community_ids:
        return sets
    rows = (
        CommunityDay.objects.for_org(org)
        .filter(
            community_id__in=community_ids,
            day__gte=min(w.start for w in windows),
            day__lte=max(w.end for w in windows),
        )
        .values_list("community_id", "day", "speaker_ids", "buyer_ids", "repeat_ids")
        .order_by()
    )
    for community_id, day, speaker_ids, buyer_ids, repeat_ids in rows:
        for index, window in enumerate(windows):
            if window.contains(day):
                sets[index][community_id].add_day(speaker_ids, buyer_ids, repeat_ids)
    return sets


def _ready_sets(org, community_ids, windows) -> list[dict[int, Sets]]:
    """The sets the refresh job keeps ready (metrics.leaderboards) for preset windows: a
    window ending on a row's day, or the window just before it."""
    ready = [{} for _ in windows]
    lengths = {w.days for w in windows if w.days in PRESETS}
    if not lengths:
        return ready
    rows = (
        Leaderboard.objects.for_org(org)
        .filter(community_id__in=community_ids, days__in=lengths)
        .values_list("community_id", "days", "end_day", "sets", "previous_sets")
    )
    for community_id, days, end_day, current, previous in rows:
        for index, w in enumerate(windows):
            if w.days != days:
                continue
            if w.end == end_day and current:
                ready[index][community_id] = Sets.load(current)
            elif w.end == end_day - timedelta(days=days) and previous:
                ready[index][community_id] = Sets.load(previous)
    return ready


def window_rates(org, community_ids, *windows: Window) -> list[dict[int, Rates]]:
    """Rates per community for each window: kept-ready sets where the refresh job has them,
    the rest merged from the day rows of all windows in one query."""
    community_ids = list(community_ids)
    ready = _ready_sets(org, community_ids, windows)
    missing = [c for c in community_ids if any(c not in r for r in ready)]
    merged = window_sets(org, missing, *windows)
    results = []
    for index, window in enumerate(windows):
        headcount = members_at(org, community_ids, window.end)
        reached = members_reached(org, community_ids, window)
        sets = {c: ready[index].get(c) or merged[index][c] for c in community_ids}
        results.append(
            {
                c: Rates(
                    members=headcount.get(c, 0),
                    speakers=len(sets[c].speakers),
                    buyers=len(sets[c].buyers),
                    repeat_buyers=len(sets[c].repeat),
                    reached=reached.get(c, 0),
                    engaged=len(sets[c].speakers | sets[c].buyers),
                )
                for c in community_ids
            }
        )
    return results


def speakers(org, community_ids, *windows: Window) -> list[int]:
    """Distinct speakers of each window, per group and summed over the groups (as `total`
    counts them), from the kept-ready sets and the day rows: two queries at most, without the
    headcounts `window_rates` also reads."""
    community_ids = list(community_ids)
    ready = _ready_sets(org, community_ids, windows)
    missing = [c for c in community_ids if any(c not in r for r in ready)]
    merged = window_sets(org, missing, *windows)
    return [
        sum(len((ready[i].get(c) or merged[i][c]).speakers) for c in community_ids)
        for i in range(len(windows))
    ]


def total(rates: dict[int, Rates]) -> Rates:
    """All groups together, each member counted in each group they are in (the rates are then
    membership-weighted averages of the groups' rates)."""
    return Rates(
        members=sum(r.members for r in rates.values()),
        speakers=sum(r.speakers for r in rates.values()),
        buyers=sum(r.buyers for r in rates.values()),
        repeat_buyers=sum(r.repeat_buyers for r in rates.values()),
        reached=sum(r.base for r in rates.values()),
    )


def change(current: float | None, previous: float | None) -> dict:
    """The move against the previous window, in percentage points, with its direction."""
    if current is None or previous is None:
        return {"previous": previous, "points": None, "direction": "none"}
    points = round((current - previous) * 100, 1)
    direction = "up" if points > 0 else "down" if points < 0 else "flat"
    return {"previous": previous, "points": points, "direction": direction}


def compare(current: Rates, previous: Rates) -> dict:
    data = current.as_dict()
    for name in RATE_NAMES:
        data[f"{name}_change"] = change(getattr(current, name), getattr(previous, name))
    data["members_change"] = current.members - previous.members
    return data
