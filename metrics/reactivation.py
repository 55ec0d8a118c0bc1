"""Do the wake-ups work? Reactivation of the reminded members against the holdout, the control
group the dormant scan leaves unreminded on purpose (members/holdout.py, docs/metrics.md).

- Who: every membership drawn at its first wake-up of a dormancy (`WakeUpAssignment`), in the
  group it was drawn in, from the moment of the draw (the same moment for both groups).
- Came back within N days (N = 7 or 30): the member spoke or bought in that group on one of
  the N local days that begin with the day of the draw (the rollups' `MemberDay`: messages or
  orders). A draw counts for N only once those N days are over, so a young draw never looks
  like a failure.
- Lift: rate(reminded) − rate(held out), in percentage points; relative lift: that ÷
  rate(held out) (none when the held-out rate is 0).
- 95% interval of the lift: Newcombe's hybrid score interval (Newcombe 1998, method 10), built
  from the Wilson score interval of each rate. It stays inside [−1, 1], behaves at rates of 0
  and 100% and with small groups, where the textbook "Wald" interval is too narrow.
- Fewer than `MIN_PER_GROUP` members in either group: the figures are shown, the verdict says
  "not enough data yet".

One aggregate query per page: per (group, month of the draw, reminded or held out), counts of
draws and of returns for each window, each return an EXISTS over the member's days. Everything
else is sums of those few rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, DateField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core.formatting import count, pct_points
from members.models import WakeUpArm, WakeUpAssignment, WakeUpScan

from .days import local_day
from .models import MemberDay

WINDOWS = (7, 30)
MIN_PER_GROUP = 30
Z95 = 1.959963984540054  # the normal quantile of 97.5%


# --- the statistics -----------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe(k1: int, n1: int, k0: int, n0: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 − p0 (p1 = k1 / n1, p0 = k0 / n0)."""
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1, z)
    l0, u0 = wilson(k0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return (max(-1.0, low), min(1.0, high))


@dataclass(frozen=True)
class Comparison:
    """The reminded against the held out, for one window: how many, how many came back."""

    reminded: int = 0
    reminded_back: int = 0
    held: int = 0
    held_back: int = 0

    def __add__(self, other: Comparison) -> Comparison:
        return Comparison(
            self.reminded + other.reminded,
            self.reminded_back + other.reminded_back,
            self.held + other.held,
            self.held_back + other.held_back,
        )

    @property
    def reminded_rate(self) -> float | None:
        return self.reminded_back / self.reminded if self.reminded else None

    @property
    def held_rate(self) -> float | None:
        return self.held_back / self.held if self.held else None

    @property
    def lift(self) -> float | None:
        """Difference of the rates (a share: 0.05 is 5 percentage points)."""
        if self.reminded and self.held:
            return self.reminded_rate - self.held_rate
        return None

    @property
    def relative(self) -> float | None:
        """The lift as a share of the held-out rate."""
        if self.lift is None or not self.held_back:
            return None
        return self.lift / self.held_rate

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.lift is None:
            return None
        return newcombe(self.reminded_back, self.reminded, self.held_back, self.held)

    @property
    def enough(self) -> bool:
        return self.reminded >= MIN_PER_GROUP and self.held >= MIN_PER_GROUP

    @property
    def outcome(self) -> str:
        """ "few" (not enough data yet), "works", "worse" or "unclear"."""
        if not self.enough:
            return "few"
        low, high = self.interval
        return "works" if low > 0 else "worse" if high < 0 else "unclear"

    @property
    def outcome_label(self) -> str:
        return {
            "few": _("Not enough data yet"),
            "works": _("The reminders work"),
            "worse": _("Worse than no reminder"),
            "unclear": _("No clear difference yet"),
        }[self.outcome]

    @property
    def verdict(self) -> str:
        """What the figures say, in words."""
        if not self.enough:
            return _(
                "Not enough data yet: each side needs at least %(min)s members whose days are "
                "over (reminded: %(reminded)s, held out: %(held)s)."
            ) % {
                "min": count(MIN_PER_GROUP),
                "reminded": count(self.reminded),
                "held": count(self.held),
            }
        low, high = self.interval
        if self.outcome == "works":
            return _(
                "The reminders work: %(lift)s percentage points more members came back "
                "(95%% interval %(low)s to %(high)s)."
            ) % {"lift": pct_points(self.lift), "low": pct_points(low), "high": pct_points(high)}
        if self.outcome == "worse":
            return _(
                "Fewer reminded members came back than held-out ones: %(lift)s percentage "
                "points (95%% interval %(low)s to %(high)s). Look at the wording and the offer."
            ) % {"lift": pct_points(self.lift), "low": pct_points(low), "high": pct_points(high)}
        return _(
            "No clear difference yet: the 95%% interval (%(low)s to %(high)s percentage "
            "points) includes zero."
        ) % {"low": pct_points(low), "high": pct_points(high)}


# --- the query ----------------------------------------------------------------------------------


def _came_back(org, days: int):
    """An `Exists` for an assignment: spoke or bought in its group within `days` local days
    from the day of the draw."""
    last = ExpressionWrapper(OuterRef("day") + timedelta(days=days - 1), output_field=DateField())
    return Exists(
        MemberDay.objects.for_org(org)
        .filter(
            member=OuterRef("member_id"),
            community=OuterRef("community_id"),
            day__gte=OuterRef("day"),
            day__lte=last,
        )
        .filter(Q(messages__gt=0) | Q(orders__gt=0))
    )


def counts(org, community_ids, today: date) -> list[dict]:
    """[{community_id, month, arm, drawn, n_7, back_7, n_30, back_30}] for the draws in these
    groups, `today` being the organization's local day (windows ending before it are over)."""
    annotations, aggregates = {}, {"drawn": Count("pk")}
    for days in WINDOWS:
        annotations[f"came_back_{days}"] = _came_back(org, days)
        over = Q(day__lte=today - timedelta(days=days))
        aggregates[f"n_{days}"] = Count("pk", filter=over)
        aggregates[f"back_{days}"] = Count("pk", filter=over & Q(**{f"came_back_{days}": True}))
    return list(
        WakeUpAssignment.objects.for_org(org)
        .filter(community_id__in=list(community_ids))
        .annotate(month=TruncMonth("day"), **annotations)
        .values("community_id", "month", "arm")
        .annotate(**aggregates)
        .order_by("community_id", "month", "arm")
    )


def _comparison(row: dict, days: int) -> Comparison:
    n, back = row[f"n_{days}"], row[f"back_{days}"]
    if row["arm"] == WakeUpArm.HOLDOUT:
        return Comparison(held=n, held_back=back)
    return Comparison(reminded=n, reminded_back=back)


def report(actor, communities, *, group=None, now=None) -> dict:
    """The reactivation page: overall, per month (of the draw) and per group, for 7 and 30
    days; `group` narrows everything to one group."""
    org = actor.organization
    today = local_day(org, now or timezone.now())
    names = {c.pk: c.name for c in communities}
    ids = [group.pk] if group is not None else list(names)
    rows = counts(org, ids, today)
    overall = {days: Comparison() for days in WINDOWS}
    by_month: dict = defaultdict(lambda: {days: Comparison() for days in WINDOWS})
    by_group: dict = defaultdict(lambda: {days: Comparison() for days in WINDOWS})
    drawn = {WakeUpArm.REMINDED: 0, WakeUpArm.HOLDOUT: 0}
    for row in rows:
        drawn[row["arm"]] += row["drawn"]
        for days in WINDOWS:
            part = _comparison(row, days)
            overall[days] += part
            by_month[row["month"]][days] += part
            by_group[row["community_id"]][days] += part
    pending = {
        days: sum(drawn.values()) - overall[days].reminded - overall[days].held for days in WINDOWS
    }
    last_scan = WakeUpScan.objects.for_org(org).order_by("-at").first()
    return {
        "overall": overall,
        "by_month": [{"month": m, "windows": by_month[m]} for m in sorted(by_month, reverse=True)],
        "by_group": sorted(
            (
                {"id": pk, "name": names.get(pk, ""), "windows": windows}
                for pk, windows in by_group.items()
            ),
            key=lambda r: r["name"],
        ),
        "drawn": drawn,
        "pending": pending,
        "last_scan": last_scan,
        "holdout_percent": org.wake_up_holdout_percent,
        "min_per_group": MIN_PER_GROUP,
    }
