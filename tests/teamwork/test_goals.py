"""Goals: their figures read from the rollups (checked against the raw records), progress,
setting, raising a met goal with its history, dropping, the hourly check."""

import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communities.models import Community
from metrics.figures import GoalFigures, at_least
from teamwork.models import Goal, GoalStatus
from teamwork.selectors.goals import Values, goal_progress, history, progress, visible_goals
from teamwork.services import goals
from teamwork.tasks import check_goals
from tests.factories import CommunityFactory, GoalFactory
from tests.metrics.oracle import brute_force

from . import histories
from .conftest import NOW

# --- the figures, against brute force -------------------------------------------------------


class Rollback(Exception):
    pass


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories.histories(),
    today_offset=st.integers(min_value=0, max_value=histories.SPAN_DAYS + 3),
    min_days=st.integers(min_value=1, max_value=6),
    subset=st.sets(st.sampled_from(histories.GROUPS), min_size=1),
)
def test_goal_figures_match_the_raw_records(org_a, history, today_offset, min_days, subset):
    try:
        with transaction.atomic():
            _check_figures(org_a, history, today_offset, min_days, subset)
            raise Rollback
    except Rollback:
        pass


def _check_figures(tenant, history, today_offset, min_days, subset):
    histories.load(tenant, history)
    org = tenant.org
    today = date(2026, 2, 26) + timedelta(days=today_offset)
    first = today - timedelta(days=29)
    groups = {c.external_id: c for c in Community.objects.for_org(org)}
    ids = [groups[g].pk for g in subset if g in groups]
    figures = GoalFigures(org, [c.pk for c in groups.values()], today)
    assert figures.window.start == first and figures.window.end == today

    days = histories.active_days(org, ids, first, today)
    people = defaultdict_union(days)
    assert figures.loyal(ids, min_days) == sum(1 for d in people.values() if len(d) >= min_days)
    assert figures.revenue(ids) == histories.revenue(org, ids, first, today)
    expected = [brute_force(org, c, first, today) for c in groups.values() if c.pk in ids]
    assert figures.members(ids) == sum(e["members"] for e in expected)
    rates = figures.rates(ids)
    assert rates.speakers == sum(e["speakers"] for e in expected)
    assert rates.buyers == sum(e["buyers"] for e in expected)
    assert rates.repeat_buyers == sum(e["repeat_buyers"] for e in expected)


def defaultdict_union(days):
    """Each person's active days across the groups (a day in two groups counts once)."""
    people = {}
    for (_community, member), row in days.items():
        people.setdefault(member, set()).update(row["days"])
    return people


@given(
    sets=st.lists(st.sets(st.integers(min_value=0, max_value=20)), max_size=12),
    k=st.integers(min_value=1, max_value=6),
)
def test_at_least_k_of_the_sets(sets, k):
    from pyroaring import BitMap64

    expected = {x for x in range(21) if sum(x in s for s in sets) >= k}
    assert set(at_least([BitMap64(s) for s in sets], k)) == expected


# --- progress ------------------------------------------------------------------------------


def _goal(**fields):
    values = {
        "figure": "members",
        "target": Decimal("100"),
        "baseline": Decimal("40"),
        "starts_on": date(2026, 3, 1),
        "due_on": date(2026, 3, 31),
        "status": GoalStatus.OPEN,
        **fields,
    }
    return Goal(**values)


@pytest.mark.parametrize(
    ("value", "today", "status", "state", "done"),
    [
        (Decimal("70"), date(2026, 3, 16), "open", "on_track", 0.5),  # half way, half the time
        (Decimal("55"), date(2026, 3, 16), "open", "behind", 0.25),
        (Decimal("30"), date(2026, 3, 2), "open", "behind", 0.0),  # fell below where it began
        (Decimal("100"), date(2026, 3, 5), "open", "reached", 1.0),  # not recorded yet
        (Decimal("90"), date(2026, 3, 5), "met", "met", 0.8333),  # met, then slipped
        (Decimal("90"), date(2026, 4, 1), "open", "missed", 0.8333),
        (None, date(2026, 3, 16), "open", "behind", 0.0),
        (Decimal("90"), date(2026, 3, 16), "raised", "closed", 0.8333),
    ],
)
def test_progress_from_the_starting_point_to_the_target(value, today, status, state, done):
    p = progress(_goal(status=status), value, today)
    assert p.state == state
    assert p.done == pytest.approx(done, abs=1e-4)
    assert 0 <= p.done_percent <= 100 and 0 <= p.expected_percent <= 100


def test_progress_expected_pace_and_days_left():
    p = progress(_goal(), Decimal("40"), date(2026, 3, 7))
    assert p.expected == pytest.approx(0.2)
    assert p.days_left == 24
    assert progress(_goal(), Decimal("40"), date(2026, 4, 7)).days_left == 0


# --- setting, raising, dropping -------------------------------------------------------------


@pytest.fixture
def two_groups(org_a):
    general = CommunityFactory(organization=org_a.org, kind="general")
    CommunityFactory(organization=org_a.org, kind="category")
    CommunityFactory(organization=org_a.org, kind="general", status="archived")
    return general


@pytest.mark.time_machine(NOW, tick=False)
def test_a_goal_keeps_where_it_started(org_a, two_groups):
    owner = org_a.actor()
    groups = goals.goal_create(actor=owner, figure="groups", target=10, due_on=date(2026, 6, 30))
    assert (groups.baseline, groups.starts_on, groups.status) == (2, date(2026, 3, 11), "open")
    general = goals.goal_create(
        actor=owner, figure="groups", target=10, group_kind="general", due_on=date(2026, 6, 30)
    )
    assert general.baseline == 1
    loyal = goals.goal_create(
        actor=owner, figure="loyal_members", target=500, loyal_days=8, due_on=date(2026, 9, 1)
    )
    assert (loyal.loyal_days, loyal.baseline, loyal.group_kind) == (8, 0, "")
    rate = goals.goal_create(
        actor=owner, figure="activity_rate", target="40.5", community=two_groups,
        due_on=date(2026, 5, 1), loyal_days=3,
    )  # fmt: skip
    assert (rate.target, rate.loyal_days, rate.community) == (Decimal("40.50"), None, two_groups)


@pytest.mark.time_machine(NOW, tick=False)
@pytest.mark.parametrize(
    "bad",
    [
        {"figure": "happiness"},
        {"target": 0},
        {"target": "abc"},
        {"target": "NaN"},
        {"figure": "activity_rate", "target": 101},
        {"target": "10.5"},  # members are whole people
        {"due_on": date(2026, 3, 11)},  # today
        {"due_on": date(2040, 1, 1)},
        {"due_on": "2026-06-01"},
        {"figure": "loyal_members", "loyal_days": 31},
        {"figure": "loyal_members"},
        {"figure": "groups", "group_kind": "castle"},
        {"figure": "groups", "community": "group"},
    ],
)
def test_bad_goals_are_refused_with_a_reason(org_a, two_groups, bad):
    values = {"figure": "members", "target": 100, "due_on": date(2026, 6, 1), **bad}
    if values.get("community") == "group":
        values["community"] = two_groups
    with pytest.raises(ValidationError):
        goals.goal_create(actor=org_a.actor(), **values)
    assert not Goal.objects.for_org(org_a.org).exists()


def test_only_goal_managers_set_goals(org_a):
    for user in (org_a.analyst, org_a.deputy):
        with pytest.raises(PermissionDenied):
            goals.goal_create(
                actor=org_a.actor(user), figure="groups", target=5, due_on=date(2099, 1, 1)
            )


@pytest.mark.time_machine(NOW, tick=False)
def test_a_met_goal_is_raised_and_the_steps_are_kept(org_a, two_groups):
    owner = org_a.actor()
    first = goals.goal_create(actor=owner, figure="groups", target=5, due_on=date(2026, 4, 1))
    with pytest.raises(ValidationError):  # not met: 2 groups of 5
        goals.goal_raise(actor=owner, goal=first, target=8, due_on=date(2026, 5, 1))
    for _ in range(3):
        CommunityFactory(organization=org_a.org)
    assert check_goals.apply(args=[org_a.org.pk]).get() == {"met": 1}
    first.refresh_from_db()
    assert (first.status, first.met_value) == ("met", Decimal("5"))
    assert check_goals.apply(args=[org_a.org.pk]).get() == {"met": 0}  # recorded once
    with pytest.raises(ValidationError):  # must go higher
        goals.goal_raise(actor=owner, goal=first, target=5, due_on=date(2026, 5, 1))
    second = goals.goal_raise(actor=owner, goal=first, target=8, due_on=date(2026, 5, 1))
    assert (second.previous, second.baseline, second.status) == (first, Decimal("5"), "open")
    first.refresh_from_db()
    assert first.status == "raised" and first.closed_at is not None
    with pytest.raises(ValidationError):  # raised already: the new one is the goal now
        goals.goal_raise(actor=owner, goal=first, target=9, due_on=date(2026, 5, 1))
    # reached but not recorded yet: raising records it first
    for _ in range(3):
        CommunityFactory(organization=org_a.org)
    third = goals.goal_raise(actor=owner, goal=second, target=12, due_on=date(2026, 6, 1))
    assert [g.target for g in history(second)] == [5, 8, 12]
    assert [g.pk for g in history(third)] == [first.pk, second.pk, third.pk]
    assert [g.status for g in history(first)] == ["raised", "raised", "open"]
    rows = goal_progress(owner, [third])
    assert (rows[0].value, rows[0].state) == (Decimal("8"), "on_track")  # set today


@pytest.mark.time_machine(NOW, tick=False)
def test_a_dropped_goal_is_kept_but_no_longer_followed(org_a):
    goal = GoalFactory(organization=org_a.org)
    goals.goal_drop(actor=org_a.actor(), goal=goal)
    goal.refresh_from_db()
    assert goal.status == "dropped"
    with pytest.raises(ValidationError):
        goals.goal_drop(actor=org_a.actor(), goal=goal)
    assert goals.goals_check(org_a.org) == 0


def test_who_sees_which_goals(org_a, two_groups):
    from communities.models import StaffAssignment

    other = CommunityFactory(organization=org_a.org)
    StaffAssignment.objects.create(
        organization=org_a.org, community=two_groups, user=org_a.deputy, role="deputy"
    )
    org_goal = GoalFactory(organization=org_a.org)
    mine = GoalFactory(organization=org_a.org, community=two_groups, figure="activity_rate")
    GoalFactory(organization=org_a.org, community=other)
    money = GoalFactory(organization=org_a.org, figure="revenue")
    assert set(visible_goals(org_a.actor(org_a.deputy))) == {mine}
    assert org_goal in set(visible_goals(org_a.actor(org_a.analyst)))
    assert money in set(visible_goals(org_a.actor(org_a.analyst)))
    assert len(visible_goals(org_a.actor(org_a.owner))) == 4


def test_values_read_the_figures_once_for_many_goals(
    org_a, two_groups, django_assert_max_num_queries
):
    many = [
        GoalFactory(organization=org_a.org, figure=f, community=c, loyal_days=3)
        for f in ("members", "loyal_members", "activity_rate", "repurchase_rate", "revenue")
        for c in (None, two_groups)
    ]
    with django_assert_max_num_queries(12):
        values = Values(org_a.org, many)
        found = [values.of(g) for g in many]
    assert found[0] == 0 and found[4] is None  # no members: no rate
