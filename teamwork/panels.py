"""What the team side shows on other apps' pages, through their hooks (registered in
apps.py): the home, the team page, the metrics pages."""

from __future__ import annotations

from tenancy.permissions import can, can_anywhere

from .models import AwardRound, Nominee, RoundStatus
from .selectors.duties import week_board, week_people
from .selectors.goals import goal_progress, live_goals
from .weeks import today, week_of

HOME_GOALS = 4
TEAM_PAGE_PEOPLE = 20  # the rest on the duties page
RECENT_ROUNDS = 3

# Behind first, then the rest by target date: what needs attention leads.
_STATE_ORDER = {"behind": 0, "missed": 1, "on_track": 2, "reached": 3, "met": 4}


def _goals(actor, community=None, limit=None):
    if not can_anywhere(actor, "metrics.view"):
        return None
    rows = goal_progress(actor, live_goals(actor, community))
    rows.sort(key=lambda p: (_STATE_ORDER.get(p.state, 9), p.goal.due_on, p.goal.pk))
    return rows[:limit] if limit else rows


def home_panel(*, actor) -> dict:
    """The home: the goals most in need of attention, and the signed-in person's week."""
    mine = None
    if actor.user is not None:
        board = week_board(
            actor.organization, week_of(today(actor.organization)), user_ids=[actor.user.pk]
        )
        mine = board[0] if board else None
    return {"teamwork_goals": _goals(actor, limit=HOME_GOALS), "teamwork_my_week": mine}


def team_panel(*, actor) -> dict:
    """The team page: everyone's week against their duties, and the award winners."""
    org = actor.organization
    week = week_of(today(org))
    rounds = list(
        AwardRound.objects.for_org(org)
        .filter(status=RoundStatus.CONFIRMED)
        .order_by("-month")[:RECENT_ROUNDS]
    )
    winners = (
        Nominee.objects.for_org(org)
        .filter(round__in=rounds, is_winner=True)
        .select_related("round", "user", "member", "community")
        .order_by("-round__month", "award", "community__name")
    )
    people = week_people(org, week)
    return {
        "teamwork_team": {
            "week": week,
            "board": week_board(org, week, user_ids=people[:TEAM_PAGE_PEOPLE]),
            "more": max(0, len(people) - TEAM_PAGE_PEOPLE),
            "winners": list(winners),
            "may_awards": can(actor, "team.view"),
        }
    }


def metrics_overview_panel(*, actor) -> dict:
    return {"teamwork_goals": _goals(actor)}


def metrics_community_panel(*, actor, community) -> dict:
    return {"teamwork_goals": _goals(actor, community=community)}
