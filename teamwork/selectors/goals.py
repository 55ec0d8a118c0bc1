"""Goals' figures and progress, read from the metrics' rollups (metrics.figures).

A goal's figure now: for the organization, over every active group (members and revenue
summed over the groups, rates over all groups together, loyal members as distinct people,
groups counted); for one group, that group's. Progress runs from the figure when the goal was
set (`baseline`) to the target; "expected" is where a steady pace from the day it was set to
the target date would be today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.models import Community, CommunityStatus
from communities.selectors import communities_where
from core.formatting import count, money, percent
from metrics.figures import GoalFigures
from tenancy.permissions import can

from ..models import Goal, GoalFigure, GoalStatus
from ..weeks import today as local_today

CENT = Decimal("0.01")
LIVE = [GoalStatus.OPEN, GoalStatus.MET]


def visible_goals(actor):
    """The goals whose figures the actor may see: the organization's and every group's with
    metrics.view org-wide, else their groups' ones; revenue goals need metrics.revenue."""
    org = actor.organization
    qs = Goal.objects.for_org(org)
    if not can(actor, "metrics.view"):
        qs = qs.filter(community__in=communities_where(actor, "metrics.view"))
    if not can(actor, "metrics.revenue"):
        qs = qs.exclude(figure=GoalFigure.REVENUE)
    return qs


def goal_for(actor, pk) -> Goal:
    try:
        return visible_goals(actor).select_related("community", "previous").get(pk=pk)
    except (Goal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def active_group_ids(org) -> list[int]:
    return list(
        Community.objects.for_org(org)
        .filter(status=CommunityStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


class Values:
    """The current figure of any number of goals, from one read of the rollups."""

    def __init__(self, org, goals, today: date | None = None):
        self.org = org
        self.today = today or local_today(org)
        # the organization's figures need every active group; a group's goal only its group
        whole = any(g.community_id is None for g in goals)
        self.groups = active_group_ids(org) if whole else []
        ids = set(self.groups) | {g.community_id for g in goals if g.community_id}
        self.figures = GoalFigures(org, ids, self.today)
        self._kinds = None

    @classmethod
    def where(cls, org, community=None) -> Values:
        """The figures of the organization (no group) or of one group."""
        return cls(org, [Goal(organization=org, community=community)])

    def _group_count(self, kind: str) -> int:
        if self._kinds is None:
            self._kinds = {}
            rows = Community.objects.for_org(self.org).filter(status=CommunityStatus.ACTIVE)
            for k in rows.values_list("kind", flat=True):
                self._kinds[k] = self._kinds.get(k, 0) + 1
        return sum(self._kinds.values()) if not kind else self._kinds.get(kind, 0)

    def of(self, goal) -> Decimal | None:
        return self.value(goal.figure, goal.community_id, goal.loyal_days, goal.group_kind)

    def value(self, figure, community_id=None, loyal_days=None, group_kind="") -> Decimal | None:
        ids = [community_id] if community_id else self.groups
        f = self.figures
        if figure == GoalFigure.MEMBERS:
            found = f.members(ids)
        elif figure == GoalFigure.LOYAL:
            found = f.loyal(ids, loyal_days or 1)
        elif figure == GoalFigure.GROUPS:
            found = self._group_count(group_kind)
        elif figure == GoalFigure.REVENUE:
            found = f.revenue(ids)
        else:
            rate = getattr(f.rates(ids), figure.removesuffix("_rate"))
            found = None if rate is None else Decimal(str(rate)) * 100
        return None if found is None else Decimal(found).quantize(CENT, ROUND_HALF_UP)


def figure_text(goal: Goal, value) -> str:
    """A value of the goal's figure as a person reads it: 38.5%, ¥12,000.00, 520."""
    if goal.is_rate:
        return percent(value, 1)
    if goal.figure == GoalFigure.REVENUE:
        return money(value)
    return count(value)


def goal_title(goal: Goal) -> str:
    """ "Loyal members (active on 8 of the last 30 days)", "Number of groups (General group)"."""
    label = goal.get_figure_display()
    if goal.figure == GoalFigure.LOYAL and goal.loyal_days:
        return ngettext(
            "%(figure)s (active on %(n)s day of the last 30)",
            "%(figure)s (active on %(n)s days of the last 30)",
            goal.loyal_days,
        ) % {"figure": label, "n": goal.loyal_days}
    if goal.figure == GoalFigure.GROUPS and goal.group_kind:
        return _("%(figure)s (%(kind)s)") % {"figure": label, "kind": goal.get_group_kind_display()}
    return str(label)


@dataclass
class Progress:
    goal: Goal
    value: Decimal | None
    done: float  # 0..1, from the baseline to the target
    expected: float  # 0..1, a steady pace's share by today
    state: str  # met, reached (not recorded yet), on_track, behind, missed, closed
    days_left: int

    @property
    def reached(self) -> bool:
        return self.state in ("met", "reached")

    @property
    def done_percent(self) -> int:
        return int(self.done * 100)

    @property
    def expected_percent(self) -> int:
        return int(self.expected * 100)

    @property
    def title(self) -> str:
        return goal_title(self.goal)

    @property
    def value_text(self) -> str:
        return figure_text(self.goal, self.value)

    @property
    def target_text(self) -> str:
        return figure_text(self.goal, self.goal.target)

    @property
    def baseline_text(self) -> str:
        return figure_text(self.goal, self.goal.baseline)


def progress(goal: Goal, value: Decimal | None, today: date) -> Progress:
    target, base = goal.target, goal.baseline
    reached = value is not None and value >= target
    if reached:
        done = 1.0
    elif value is not None and target > base:
        done = min(1.0, max(0.0, float((value - base) / (target - base))))
    else:
        done = 0.0
    span = (goal.due_on - goal.starts_on).days
    elapsed = (today - goal.starts_on).days
    expected = 1.0 if span <= 0 else min(1.0, max(0.0, elapsed / span))
    if not goal.is_live:
        state = "closed"
    elif goal.status == GoalStatus.MET:
        state = "met"
    elif reached:
        state = "reached"
    elif today > goal.due_on:
        state = "missed"
    elif done >= expected:
        state = "on_track"
    else:
        state = "behind"
    return Progress(
        goal=goal,
        value=value,
        done=done,
        expected=expected,
        state=state,
        days_left=max(0, (goal.due_on - today).days),
    )


def live_goals(actor, community=None, limit=50):
    """The actor's open and met goals: the organization's and every group's they may see (or
    one group's), soonest target date first."""
    qs = visible_goals(actor).filter(status__in=LIVE).select_related("community")
    if community is not None:
        qs = qs.filter(community=community)
    return list(qs.order_by("due_on", "pk")[:limit])


def goal_progress(actor, goals, today: date | None = None) -> list[Progress]:
    if not goals:
        return []
    values = Values(actor.organization, goals, today)
    return [progress(g, values.of(g), values.today) for g in goals]


def history(goal) -> list[Goal]:
    """The goal and the ones it was raised from, oldest first (a chain of a few links)."""
    chain = [goal]
    seen = {goal.pk}
    current = goal
    while current.previous_id and current.previous_id not in seen:
        current = (
            Goal.objects.for_org(goal.organization)
            .select_related("community")
            .get(pk=current.previous_id)
        )
        chain.append(current)
        seen.add(current.pk)
    later = Goal.objects.for_org(goal.organization).filter(Q(previous=goal)).first()
    while later is not None and later.pk not in seen:
        chain.insert(0, later)
        seen.add(later.pk)
        later = Goal.objects.for_org(goal.organization).filter(previous=later).first()
    return list(reversed(chain))
