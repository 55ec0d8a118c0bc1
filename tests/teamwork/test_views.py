"""The team side's pages: who sees what, and every form through its page."""

from datetime import date

import pytest

from communities.models import StaffAssignment
from integrations.models import Action
from teamwork.models import AwardRound, Duty, DutyTick, Goal, Nominee
from tests.factories import CommunityFactory, DutyFactory, GoalFactory

from .conftest import NOW, local

pytestmark = pytest.mark.time_machine(NOW, tick=False)


@pytest.fixture
def group(org_a):
    community = CommunityFactory(organization=org_a.org, name="健康交流1群")
    StaffAssignment.objects.create(
        organization=org_a.org, community=community, user=org_a.deputy, role="deputy",
        assigned_at=local(1),
    )  # fmt: skip
    return community


@pytest.fixture
def rounds(org_a, group):
    return DutyFactory(
        organization=org_a.org, title="每天巡群", role="deputy", measure="manual", period="day",
        quota=1, created_at=local(1),
    )  # fmt: skip


def _url(org_a, path):
    return f"/o/{org_a.org.slug}/{path}"


def test_the_deputy_sees_and_ticks_their_own_week(org_a, group, rounds):
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url(org_a, "team/duties/")).content.decode()
    assert "你的本周职责" in page and "每天巡群" in page
    assert "每天 1 次" in page
    response = client.post(
        _url(org_a, f"team/duties/{rounds.pk}/tick/"),
        {"community": group.pk, "day": "2026-03-10", "count": "1", "week": "2026-03-09"},
    )
    assert response.status_code == 302
    assert response["Location"] == _url(org_a, "team/duties/?week=2026-03-09")
    (tick,) = DutyTick.objects.for_org(org_a.org)
    assert (tick.user, tick.day) == (org_a.deputy, date(2026, 3, 10))
    page = client.get(_url(org_a, "team/duties/")).content.decode()
    assert "3 天中 1 天达标" in page
    client.post(_url(org_a, f"team/ticks/{tick.pk}/undo/"))
    tick.refresh_from_db()
    assert tick.undone_at is not None


def test_a_bad_or_foreign_tick_is_refused_with_a_message(org_a, group, rounds):
    client = org_a.client_for(org_a.deputy)
    url = _url(org_a, f"team/duties/{rounds.pk}/tick/")
    for data in [
        {"community": group.pk, "day": "2026-02-01"},
        {"community": "abc"},
        {"community": group.pk, "user": org_a.owner.pk},
    ]:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"]), data
    assert not DutyTick.objects.for_org(org_a.org).exists()
    # an analyst sees the page but has no duties to tick
    analyst = org_a.client_for(org_a.analyst)
    assert "你本周没有职责。" in analyst.get(_url(org_a, "team/duties/")).content.decode()
    response = analyst.post(url, {"community": group.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "你只能为自己在所负责群里的职责打勾。"
    ]


def test_managers_set_and_retire_duties(org_a, group):
    client = org_a.client_for(org_a.manager)
    url = _url(org_a, "team/duties/setup/")
    response = client.post(url, {"title": "", "role": "deputy", "measure": "posts",
                                 "period": "week", "quota": "0"})  # fmt: skip
    assert response.status_code == 400
    response = client.post(
        url,
        {"title": "新人引导", "role": "deputy", "measure": "greetings", "period": "week",
         "quota": "100", "within_hours": "2", "community": group.pk},
    )  # fmt: skip
    assert response.status_code == 302
    duty = Duty.objects.for_org(org_a.org).get()
    assert (duty.community, duty.within_hours) == (group, 2)
    page = client.get(url).content.decode()
    assert "新人引导" in page and "每周 100%" in page
    client.post(_url(org_a, f"team/duties/{duty.pk}/retire/"))
    duty.refresh_from_db()
    assert not duty.is_active
    assert org_a.client_for(org_a.deputy).get(url).status_code == 403


def test_the_team_page_shows_each_persons_week_and_the_winners(org_a, group, rounds):
    award_round = AwardRound.objects.create(organization=org_a.org, month=date(2026, 2, 1))
    Nominee.objects.create(
        organization=org_a.org, round=award_round, award="best_service", rank=1,
        user=org_a.deputy, figures={"resolved": 4, "follow_ups": 1, "handled": 5,
                                    "median_first_response_seconds": 240}, is_winner=True,
    )  # fmt: skip
    award_round.status = "confirmed"
    award_round.save()
    page = org_a.client_for(org_a.owner).get(_url(org_a, "team/")).content.decode()
    assert "本周职责" in page and "每天巡群" in page
    assert "2026-02 · 最佳服务奖" in page
    assert "解决 4 个工单 · 完成 1 次回访 · 首次回应中位时长 4 分钟" in page


def test_goals_are_set_raised_and_shown_on_the_home_and_the_metrics(org_a, group):
    owner = org_a.client_for(org_a.owner)
    response = owner.post(
        _url(org_a, "goals/"), {"figure": "groups", "target": "1", "due_on": "2026-06-30"}
    )
    assert response.status_code == 302
    goal = Goal.objects.for_org(org_a.org).get()
    assert goal.baseline == 1  # already there: reached
    home = owner.get(_url(org_a, "")).content.decode()
    assert "社群数量" in home and "已达到" in home
    assert "社群数量" in owner.get(_url(org_a, "metrics/")).content.decode()
    detail = _url(org_a, f"goals/{goal.pk}/")
    response = owner.post(detail, {"target": "1", "due_on": "2026-09-30"})
    assert response.status_code == 400
    assert "新目标须高于 1。" in response.content.decode()
    response = owner.post(detail, {"target": "3", "due_on": "2026-09-30"})
    raised = Goal.objects.for_org(org_a.org).get(previous=goal)
    assert response["Location"] == _url(org_a, f"goals/{raised.pk}/")
    page = owner.get(_url(org_a, f"goals/{raised.pk}/")).content.decode()
    assert "逐步提高" in page
    analyst = org_a.client_for(org_a.analyst)
    assert analyst.post(_url(org_a, "goals/"), {"figure": "groups"}).status_code == 403
    assert analyst.post(detail, {"target": "5", "due_on": "2026-09-30"}).status_code == 403


def test_a_deputy_sees_their_groups_goals_only(org_a, group):
    mine = GoalFactory(organization=org_a.org, community=group, figure="activity_rate", target=40)
    theirs = GoalFactory(organization=org_a.org, figure="members")
    client = org_a.client_for(org_a.deputy)
    assert client.get(_url(org_a, f"goals/{mine.pk}/")).status_code == 200
    assert client.get(_url(org_a, f"goals/{theirs.pk}/")).status_code == 404
    page = client.get(_url(org_a, f"metrics/groups/{group.pk}/")).content.decode()
    assert "活跃度" in page and 'data-testid="goal"' in page


def test_the_owner_confirms_the_awards_from_the_page(org_a, group):
    award_round = AwardRound.objects.create(organization=org_a.org, month=date(2026, 2, 1))
    nominee = Nominee.objects.create(
        organization=org_a.org, round=award_round, award="best_service", rank=1,
        user=org_a.deputy, figures={"resolved": 2, "follow_ups": 0, "handled": 2},
    )  # fmt: skip
    url = _url(org_a, f"team/awards/{award_round.pk}/")
    assert (
        org_a.client_for(org_a.manager).post(url, {"best_service": nominee.pk}).status_code == 403
    )
    page = org_a.client_for(org_a.manager).get(url).content.decode()
    assert "确认并公布" not in page
    owner = org_a.client_for(org_a.owner)
    assert "确认并公布" in owner.get(url).content.decode()
    response = owner.post(url, {"best_service": nominee.pk}, follow=True)
    assert response.status_code == 200
    award_round.refresh_from_db()
    assert award_round.status == "confirmed"
    (action,) = Action.objects.for_org(org_a.org).filter(kind="group.announce")
    assert action.community == group
