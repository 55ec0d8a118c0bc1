"""The figures goals are set on and awards are given for, read from the rollups only.

- `GoalFigures`: for some groups, over the last 30 local days ending `today`: members at the
  end, loyal members (distinct people active on at least N of the 30 days), the activity,
  conversion and repurchase rates (metrics.rates), revenue. Everything is read once for all the
  groups asked about; any subset of them is then answered from memory, so a page showing many
  goals costs the same few queries.
- `member_activity`: per group and member, the days they were active in a window and what they
  did (messages, check-ins, shares), for the monthly best-activity award.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from pyroaring import BitMap64

from .models import CommunityDay, MemberDay
from .rates import Rates, members_at, total, window_rates
from .windows import Window, last_days

FIGURE_DAYS = 30


class GoalFigures:
    def __init__(self, org, community_ids, today: date | None = None):
        self.org = org
        self.community_ids = sorted(set(community_ids))
        self.window: Window = last_days(org, FIGURE_DAYS, today)
        ids = self.community_ids
        (self._rates,) = window_rates(org, ids, self.window) if ids else ({},)
        self._members = members_at(org, ids, self.window.end) if ids else {}
        self._revenue = (
            dict(
                CommunityDay.objects.for_org(org)
                .filter(community_id__in=ids, day__gte=self.window.start, day__lte=self.window.end)
                .values("community_id")
                .annotate(revenue=Sum("revenue"))
                .values_list("community_id", "revenue")
                .order_by()
            )
            if ids
            else {}
        )
        self._active_days = None  # {community id: {day: bitmap}}, read on first use

    def _subset(self, community_ids) -> list[int]:
        return [c for c in community_ids if c in set(self.community_ids)]

    def members(self, community_ids) -> int:
        """Members at the end of the window, each counted in every group they are in (as the
        metrics pages' "all groups")."""
        return sum(self._members.get(c, 0) for c in self._subset(community_ids))

    def rates(self, community_ids) -> Rates:
        return total({c: self._rates[c] for c in self._subset(community_ids)})

    def revenue(self, community_ids) -> Decimal:
        return sum(
            (self._revenue.get(c) or Decimal("0") for c in self._subset(community_ids)),
            Decimal("0"),
        )

    def loyal(self, community_ids, min_days: int) -> int:
        """Distinct people active (posted, checked in, shared or bought) in these groups on at
        least `min_days` of the window's days."""
        if self._active_days is None:
            self._active_days = defaultdict(dict)
            rows = (
                CommunityDay.objects.for_org(self.org)
                .filter(
                    community_id__in=self.community_ids,
                    day__gte=self.window.start,
                    day__lte=self.window.end,
                )
                .values_list("community_id", "day", "active_ids")
                .order_by()
            )
            for community_id, day, blob in rows:
                if blob:
                    self._active_days[community_id][day] = BitMap64.deserialize(bytes(blob))
        by_day: dict = defaultdict(BitMap64)
        for c in self._subset(community_ids):
            for day, ids in self._active_days.get(c, {}).items():
                by_day[day] |= ids
        return len(at_least(list(by_day.values()), min_days))


def at_least(sets: list[BitMap64], k: int) -> BitMap64:
    """The ids found in at least `k` of `sets`. levels[j] holds the ids seen in at least j of
    the sets read so far; each set moves its ids one level up."""
    if k <= 0:
        raise ValueError("k must be positive")
    levels = [BitMap64() for _ in range(k + 1)]
    for s in sets:
        for j in range(k, 1, -1):
            levels[j] |= levels[j - 1] & s
        levels[1] |= s
    return levels[k]


def member_activity(org, community_ids, window: Window) -> dict[tuple[int, int], dict]:
    """{(community id, member id): {"days", "messages", "checkins", "shares"}} over the window:
    the member-days of the rollups (a day counts when the member posted, checked in, shared or
    bought in the group)."""
    rows = (
        MemberDay.objects.for_org(org)
        .filter(community_id__in=list(community_ids), day__gte=window.start, day__lte=window.end)
        .values("community_id", "member_id")
        .annotate(
            days=Count("pk"),
            messages=Sum("messages"),
            checkins=Sum("checkins"),
            shares=Sum("shares"),
        )
        .order_by()
    )
    return {
        (r["community_id"], r["member_id"]): {
            "days": r["days"],
            "messages": r["messages"] or 0,
            "checkins": r["checkins"] or 0,
            "shares": r["shares"] or 0,
        }
        for r in rows
    }
