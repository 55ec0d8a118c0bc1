"""Duties with a rhythm, measured from what Qunyun records (teamwork.selectors.duties), and
the ones ticked by hand."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from care.models import CaseEvent, FollowUpStatus
from communities.models import ScheduledPost
from members.models import Membership
from teamwork.models import Duty, DutyTick
from teamwork.selectors.duties import week_board
from teamwork.services import duties
from teamwork.weeks import Week, parse_week, week_of
from tests.factories import CaseFactory, DutyFactory, FollowUpTaskFactory, MembershipFactory

from .conftest import NOW, local

pytestmark = pytest.mark.time_machine(NOW, tick=False)
WEEK = Week(date(2026, 3, 9))


def _lines(board, user):
    (person,) = [p for p in board if p.user.pk == user.pk]
    return {(line.duty.title, line.community.name): line for line in person.lines}


def _post(org, community, user, at, kind="discussion", status="sent"):
    return ScheduledPost.objects.create(
        organization=org,
        community=community,
        scheduled_at=at,
        sent_at=at if status == "sent" else None,
        content_type=kind,
        text="话题",
        status=status,
        created_by=user,
    )


def test_the_week_is_the_organizations_local_monday_to_sunday(org_a):
    assert parse_week(org_a.org, None) == WEEK
    assert parse_week(org_a.org, "2026-03-15") == WEEK
    assert parse_week(org_a.org, "2026-03-16") == WEEK.next()
    assert parse_week(org_a.org, "not-a-day") == WEEK
    assert parse_week(org_a.org, "9999-12-31") == WEEK  # out of range: this week, no error
    assert week_of(date(2026, 3, 8)) == WEEK.previous()


def test_topic_officer_interactions_count_discussion_posts_sent_this_week(
    org_a, group, other_group, assign, staff_user
):
    org = org_a.org
    officer = staff_user("topic@example.com")
    assign(officer, group, "topic_officer")
    DutyFactory(
        organization=org, title="每周 3 次互动", measure="topics", quota=3, created_at=local(1)
    )
    DutyFactory(organization=org, title="每周发帖", measure="posts", quota=3)
    _post(org, group, officer, local(9, 0, 0))  # Monday midnight, local: this week
    _post(org, group, officer, local(10, 23, 30))
    _post(org, group, officer, local(9, 10), kind="tips")  # a post, not a topic
    _post(org, group, officer, local(8, 23, 59))  # Sunday before: last week
    _post(org, group, officer, local(12, 20), status="scheduled")  # not sent yet
    _post(org, group, org_a.owner, local(9, 11))  # someone else's
    _post(org, other_group, officer, local(9, 12))  # a group where they are not officer

    lines = _lines(week_board(org, WEEK), officer)
    topics = lines[("每周 3 次互动", group.name)]
    assert (topics.value, topics.status) == (2, "open")
    assert topics.days == [1, 1, 0, None, None, None, None]  # Thursday on: still to come
    posts = lines[("每周发帖", group.name)]
    assert (posts.value, posts.status) == (3, "met")
    # the week before: one topic, and that week is over
    before = _lines(week_board(org, WEEK.previous()), officer)[("每周 3 次互动", group.name)]
    assert (before.value, before.status) == (1, "missed")


def test_cases_handled_count_each_case_once_and_replies_each_reply(
    org_a, group, other_group, assign
):
    org, deputy = org_a.org, org_a.deputy
    assign(deputy, group, "deputy")
    DutyFactory(organization=org, title="处理售后", role="deputy", measure="cases", quota=2)
    DutyFactory(
        organization=org, title="每天回复", role="deputy", measure="replies", period="day", quota=1
    )
    first, second = (
        CaseFactory(organization=org, community=group),
        CaseFactory(organization=org, community=group),
    )
    elsewhere = CaseFactory(organization=org, community=other_group)

    def event(case, kind, at, user=deputy):
        CaseEvent.objects.create(
            organization=org, case=case, kind=kind, step="responded" if kind == "step" else "",
            actor_user=user, actor_label="x", created_at=at,
        )  # fmt: skip

    event(first, "step", local(9, 9))
    event(first, "step", local(10, 9))  # the same case the next day
    event(first, "reply", local(9, 9, 1))
    event(second, "comment", local(10, 9))  # a comment is not handling
    event(second, "reply", local(10, 10))
    event(second, "reply", local(10, 11))
    event(elsewhere, "step", local(9, 9))
    event(second, "step", local(10, 12), user=org_a.owner)

    lines = _lines(week_board(org, WEEK), deputy)
    cases = lines[("处理售后", group.name)]
    assert (cases.value, cases.status) == (1, "open")
    assert cases.days[:3] == [1, 1, 0]
    replies = lines[("每天回复", group.name)]
    assert replies.days[:3] == [1, 2, 0]
    assert (replies.days_met, replies.days_counted, replies.status) == (2, 3, "open")


def test_follow_ups_done_count_for_who_finished_them(org_a, group, assign):
    org, deputy = org_a.org, org_a.deputy
    assign(deputy, group, "deputy")
    DutyFactory(organization=org, title="回访", role="deputy", measure="follow_ups", quota=2)
    for label, status, at in [
        (deputy.email, FollowUpStatus.DONE, local(9, 10)),
        (deputy.email, FollowUpStatus.DONE, local(11, 11)),
        (deputy.email, FollowUpStatus.SKIPPED, local(10, 10)),
        (org_a.owner.email, FollowUpStatus.DONE, local(10, 10)),
        (deputy.email, FollowUpStatus.DONE, local(2, 10)),  # an earlier week
    ]:
        FollowUpTaskFactory(
            organization=org, community=group, status=status, done_at=at, done_by_label=label
        )
    line = _lines(week_board(org, WEEK), deputy)[("回访", group.name)]
    assert (line.value, line.status) == (2, "met")


def test_greeting_newcomers_in_time_is_a_share_of_those_due(org_a, group, assign):
    org, deputy = org_a.org, org_a.deputy
    assign(deputy, group, "deputy")
    DutyFactory(
        organization=org, title="2 小时内引导新人", role="deputy", measure="greetings",
        quota=100, within_hours=2,
    )  # fmt: skip

    def newcomer(joined, **fields):
        return MembershipFactory(organization=org, community=group, joined_at=joined, **fields)

    newcomer(local(9, 10), introduced_at=local(9, 11))  # greeted in time
    newcomer(local(9, 10), coupon_issued_at=local(9, 13))  # greeted too late
    newcomer(local(10, 9), introduced_at=local(10, 11))  # just in time: 2 hours
    newcomer(local(11, 11))  # an hour ago: there is still time
    newcomer(local(10, 9), left_at=local(10, 10), status="left")  # gone within the 2 hours
    newcomer(local(10, 9), status="removed")  # turned away at the door
    newcomer(local(8, 23))  # last week

    line = _lines(week_board(org, WEEK), deputy)[("2 小时内引导新人", group.name)]
    assert line.days[:3] == [(2, 1), (1, 1), (0, 0)]
    assert line.value == pytest.approx(200 / 3)
    assert line.status == "open"
    # a week with nobody new: nothing to do
    idle = _lines(week_board(org, WEEK.next()), deputy)[("2 小时内引导新人", group.name)]
    assert (idle.value, idle.status) == (None, "idle")


def test_a_daily_duty_ticked_by_hand(org_a, group, assign):
    org, deputy = org_a.org, org_a.deputy
    assign(deputy, group, "deputy")
    duty = DutyFactory(
        organization=org, title="每天巡群", role="deputy", measure="manual", period="day", quota=1
    )
    me = org_a.actor(deputy)
    duties.duty_tick(actor=me, duty=duty, community=group, day=date(2026, 3, 9))
    duties.duty_tick(actor=me, duty=duty, community=group, day=date(2026, 3, 10), count=2)
    oops = duties.duty_tick(actor=me, duty=duty, community=group)  # today, by default
    duties.tick_undo(actor=me, tick=oops)

    line = _lines(week_board(org, WEEK), deputy)[("每天巡群", group.name)]
    assert line.days == [1, 2, 0, None, None, None, None]
    assert (line.days_met, line.days_counted, line.status) == (2, 3, "open")
    duties.duty_tick(actor=me, duty=duty, community=group)
    line = _lines(week_board(org, WEEK), deputy)[("每天巡群", group.name)]
    assert line.status == "on_track"
    # a day missed before today: the week is behind
    DutyTick.objects.for_org(org).filter(day=date(2026, 3, 9)).update(undone_at=NOW)
    line = _lines(week_board(org, WEEK), deputy)[("每天巡群", group.name)]
    assert line.status == "missed"
    assert oops.created_by_label == deputy.email


def test_a_duty_applies_where_the_person_holds_the_role_or_only_in_its_group(
    org_a, group, other_group, assign, staff_user
):
    org = org_a.org
    officer = staff_user("topic@example.com")
    assign(officer, group, "topic_officer")
    assign(officer, other_group, "topic_officer")
    assign(org_a.deputy, group, "deputy")
    DutyFactory(organization=org, title="全部群", measure="topics")
    DutyFactory(organization=org, title="只在2群", measure="topics", community=other_group)
    board = week_board(org, WEEK)
    assert sorted(_lines(board, officer)) == [
        ("全部群", group.name),
        ("全部群", other_group.name),
        ("只在2群", other_group.name),
    ]
    assert org_a.deputy.pk not in {p.user.pk for p in board}  # no deputy duties
    assert [p.user.pk for p in week_board(org, WEEK, user_ids=[officer.pk])] == [officer.pk]


def test_retired_duties_and_ended_assignments_leave_the_weeks_after(org_a, group, assign):
    org, deputy = org_a.org, org_a.deputy
    assignment = assign(deputy, group, "deputy")
    duty = DutyFactory(organization=org, title="巡群", role="deputy", created_at=local(1))
    duties.duty_retire(actor=org_a.actor(), duty=duty)
    assert not week_board(org, WEEK.next())
    assert week_board(org, WEEK)  # retired during this week: still counted for it
    assignment.ended_at = local(2)
    assignment.save()
    assert not week_board(org, WEEK)
    with pytest.raises(ValidationError):
        duties.duty_retire(actor=org_a.actor(), duty=duty)


def test_the_board_reads_every_line_in_a_fixed_number_of_queries(
    org_a, group, other_group, assign, staff_user, django_assert_max_num_queries
):
    org = org_a.org
    for measure in ("posts", "topics", "cases", "replies", "follow_ups", "greetings", "manual"):
        DutyFactory(organization=org, title=measure, role="deputy", measure=measure)
    assign(org_a.deputy, group, "deputy")
    with django_assert_max_num_queries(12) as few:
        week_board(org, WEEK)
    for n in range(6):
        user = staff_user(f"deputy{n}@example.com")
        assign(user, group, "deputy")
        assign(user, other_group, "deputy")
    with django_assert_max_num_queries(len(few.captured_queries)):
        board = week_board(org, WEEK)
    assert len(board) == 7


# --- ticking by hand ---------------------------------------------------------------------------


@pytest.fixture
def manual(org_a, group, assign):
    assign(org_a.deputy, group, "deputy")
    return DutyFactory(organization=org_a.org, title="巡群", role="deputy", measure="manual")


def test_staff_tick_only_their_own_duties_managers_anyone(org_a, group, manual, staff_user):
    other = staff_user("other@example.com")
    with pytest.raises(PermissionDenied):
        duties.duty_tick(actor=org_a.actor(other), duty=manual, community=group)
    with pytest.raises(PermissionDenied):
        duties.duty_tick(actor=org_a.actor(org_a.analyst), duty=manual, community=group)
    tick = duties.duty_tick(
        actor=org_a.actor(org_a.manager), duty=manual, community=group, user=org_a.deputy
    )
    assert tick.user == org_a.deputy
    with pytest.raises(PermissionDenied):
        duties.tick_undo(actor=org_a.actor(other), tick=tick)


@pytest.mark.parametrize(
    "change",
    [
        {"day": date(2026, 3, 3)},  # more than a week ago
        {"day": date(2026, 3, 12)},  # tomorrow
        {"count": 0},
        {"count": 101},
        {"note": "x" * 201},
        {"note": "a\x00b"},
    ],
)
def test_bad_ticks_are_refused_with_a_reason(org_a, group, manual, change):
    with pytest.raises(ValidationError):
        duties.duty_tick(actor=org_a.actor(org_a.deputy), duty=manual, community=group, **change)
    assert not DutyTick.objects.for_org(org_a.org).exists()


def test_only_hand_duties_of_ones_role_in_that_group_can_be_ticked(
    org_a, group, other_group, manual
):
    deputy = org_a.actor(org_a.deputy)
    counted = DutyFactory(organization=org_a.org, role="deputy", measure="posts")
    with pytest.raises(ValidationError):
        duties.duty_tick(actor=deputy, duty=counted, community=group)
    officer_duty = DutyFactory(organization=org_a.org, role="topic_officer", measure="manual")
    with pytest.raises(ValidationError):
        duties.duty_tick(actor=org_a.actor(), duty=officer_duty, community=group)
    with pytest.raises((ValidationError, PermissionDenied)):
        duties.duty_tick(actor=deputy, duty=manual, community=other_group)


def test_creating_a_duty_checks_its_values(org_a, group):
    owner = org_a.actor()
    duty = duties.duty_create(
        actor=owner, title=" 每周 3 次互动 ", role="topic_officer", measure="topics",
        period="week", quota=3,
    )  # fmt: skip
    assert (duty.title, duty.created_by) == ("每周 3 次互动", org_a.owner)
    for bad in [
        {"role": "king"},
        {"measure": "vibes"},
        {"period": "month"},
        {"quota": 0},
        {"measure": "greetings", "quota": 101},
        {"within_hours": 0},
        {"title": ""},
    ]:
        values = {"title": "x", "role": "deputy", "measure": "posts", "period": "week", "quota": 1}
        with pytest.raises(ValidationError):
            duties.duty_create(actor=owner, **{**values, **bad})
    with pytest.raises(PermissionDenied):
        duties.duty_create(
            actor=org_a.actor(org_a.analyst), title="x", role="deputy", measure="posts",
            period="week", quota=1,
        )  # fmt: skip
    assert Duty.objects.for_org(org_a.org).count() == 1
    assert Membership.objects.for_org(org_a.org).count() == 0
