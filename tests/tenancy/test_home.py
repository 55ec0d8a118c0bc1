"""The organization's home (issue 16, items 1 and 2): the first-steps checklist of a new
organization, read from the data that completes each step; "what needs me now" by role, the
most urgent first and a deputy's only in their groups; the day's and the week's figures."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from pyroaring import BitMap64

from campaigns.models import CampaignTarget, Team
from communities.models import ContentPlan, ScheduledPost
from communities.services import rules_apply_template
from members.models import Membership
from metrics.models import CommunityDay
from tenancy.home import TodayItem, TodaySection
from tenancy.models import AuditLogEntry, Invitation, OrgMembership
from tests.factories import (
    CampaignFactory,
    CaseFactory,
    CommunityFactory,
    MembershipFactory,
    StaffAssignmentFactory,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)  # a Wednesday morning


def _home(tenant, user):
    response = tenant.client_for(user).get(reverse("dashboard", args=[tenant.org.slug]))
    assert response.status_code == 200
    return response


def _steps(response) -> dict:
    first = response.context["first_steps"]
    return None if first is None else {step.key: step.done for step in first["steps"]}


def _sections(response) -> list[str]:
    return [section.key for section in response.context["today"]]


def _section(response, key) -> TodaySection:
    return next(s for s in response.context["today"] if s.key == key)


def _new_org(tenant):
    """The tenant as a brand-new organization: only its owner, its one key, nothing else."""
    OrgMembership.objects.for_org(tenant.org).exclude(user=tenant.owner).update(is_active=False)


# --- first steps ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_checklist_ticks_each_step_from_the_data(org_a):
    _new_org(org_a)
    assert _steps(_home(org_a, org_a.owner)) == {
        "group": False,
        "rules": False,
        "bot": False,
        "invite": False,
        "plan": False,
    }

    community = CommunityFactory(organization=org_a.org)
    rules_apply_template(actor=org_a.actor(), community=community, template="health_food")
    Invitation.objects.create(
        organization=org_a.org,
        email="deputy@example.com",
        role="staff",
        token_hash="x" * 64,
        expires_at=timezone.now() + timedelta(days=7),
    )
    steps = _steps(_home(org_a, org_a.owner))
    assert steps == {"group": True, "rules": True, "bot": False, "invite": True, "plan": False}

    event = {
        "id": "first-1",
        "type": "member.joined",
        "occurred_at": timezone.now().isoformat(),
        "platform": "wechat",
        "community": community.external_id,
        "user": "wxid_first",
    }
    posted = org_a.api_client().post(
        "/api/v1/events/", json.dumps({"events": [event]}), content_type="application/json"
    )
    assert posted.status_code == 200 and posted.json()["accepted"] == 1
    assert _steps(_home(org_a, org_a.owner))["bot"] is True

    ContentPlan.objects.create(organization=org_a.org, name="每周计划")
    home = _home(org_a, org_a.owner)
    assert home.context["first_steps"] is None  # every step done: the checklist is gone
    assert 'data-testid="first-steps"' not in home.content.decode()


@pytest.mark.django_db
def test_each_step_links_to_the_page_that_does_it(org_a):
    _new_org(org_a)
    client = org_a.client_for(org_a.owner)
    steps = _home(org_a, org_a.owner).context["first_steps"]["steps"]
    assert [s.key for s in steps] == ["group", "rules", "bot", "invite", "plan"]
    slug = org_a.org.slug
    assert [s.url for s in steps] == [
        reverse("community-create", args=[slug]),
        reverse("communities", args=[slug]),  # no group yet to apply a template to
        reverse("api-keys", args=[slug]),
        reverse("team", args=[slug]),
        reverse("plan-create", args=[slug]),
    ]
    for step in steps:
        assert client.get(step.url).status_code == 200, step.key
    community = CommunityFactory(organization=org_a.org)
    rules = _home(org_a, org_a.owner).context["first_steps"]["steps"][1]
    assert rules.url == reverse("community-rules", args=[slug, community.pk])


@pytest.mark.django_db
def test_the_key_step_says_what_it_waits_for(org_a):
    _new_org(org_a)
    bot = _home(org_a, org_a.owner).context["first_steps"]["steps"][2]
    assert bot.hint == "你的密钥已经就绪：机器人的第一个事件到达时，这一步会自动打勾。"
    org_a.api_key.revoked_at = timezone.now()
    org_a.api_key.save(update_fields=["revoked_at"])
    bot = _home(org_a, org_a.owner).context["first_steps"]["steps"][2]
    assert bot.hint == "为你的机器人创建一个 API 密钥；收到它的第一个事件时，这一步会自动打勾。"


@pytest.mark.django_db
def test_only_those_who_set_up_see_the_checklist(org_a):
    OrgMembership.objects.for_org(org_a.org).filter(user=org_a.deputy).update(is_active=True)
    assert _steps(_home(org_a, org_a.owner)) is not None
    manager = _home(org_a, org_a.manager)
    assert _steps(manager) is not None
    assert manager.context["first_steps"]["may_dismiss"] is False
    assert _steps(_home(org_a, org_a.analyst)) is None
    assert _steps(_home(org_a, org_a.deputy)) is None


@pytest.mark.django_db
def test_the_owner_puts_the_checklist_away(org_a):
    url = reverse("first-steps-dismiss", args=[org_a.org.slug])
    assert org_a.client_for(org_a.manager).post(url).status_code == 403
    asked = org_a.client_for(org_a.owner).get(url)  # opened directly: it asks first
    assert asked.status_code == 200 and "隐藏起步清单？" in asked.content.decode()
    assert _steps(_home(org_a, org_a.owner)) is not None
    assert _steps(_home(org_a, org_a.owner)) is not None
    response = org_a.client_for(org_a.owner).post(url)
    assert response.status_code == 302
    assert _steps(_home(org_a, org_a.owner)) is None
    assert _steps(_home(org_a, org_a.manager)) is None
    entry = AuditLogEntry.objects.for_org(org_a.org).get(action="org.first_steps_dismiss")
    assert entry.actor_user == org_a.owner
    assert org_a.client_for(org_a.owner).post(url).status_code == 302  # again: no change
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action=entry.action).count() == 1


# --- what needs me now ---------------------------------------------------------------------


def _deputy_of(tenant, community):
    StaffAssignmentFactory(organization=tenant.org, community=community, user=tenant.deputy)


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_a_deputy_sees_their_overdue_complaint_first_and_only_their_groups(org_a):
    mine, other = CommunityFactory(organization=org_a.org), CommunityFactory(organization=org_a.org)
    _deputy_of(org_a, mine)
    MembershipFactory(organization=org_a.org, community=mine, status="joined")
    MembershipFactory(organization=org_a.org, community=other, status="joined")
    overdue = CaseFactory(
        organization=org_a.org, community=mine, opened_at=NOW - timedelta(minutes=40)
    )
    soon = CaseFactory(organization=org_a.org, community=mine, opened_at=NOW)
    elsewhere = CaseFactory(
        organization=org_a.org, community=other, opened_at=NOW - timedelta(hours=3)
    )
    CampaignFactory(organization=org_a.org)  # campaigns are not a deputy's business

    home = _home(org_a, org_a.deputy)
    assert _sections(home) == ["cases", "newcomers"]
    cases = _section(home, "cases")
    assert cases.count == 2
    assert [item.title for item in cases.items] == [overdue.subject, soon.subject]
    assert cases.items[0].overdue and not cases.items[1].overdue
    assert _section(home, "newcomers").count == 1
    page = home.content.decode()
    assert elsewhere.subject not in page
    assert page.index(overdue.subject) < page.index(soon.subject)
    assert "已超时 30 分钟" in page  # due 10 minutes after opening, 40 minutes ago
    assert "figure-revenue" not in page  # revenue needs metrics.revenue

    owner = _home(org_a, org_a.owner)
    assert _section(owner, "cases").items[0].title == elsewhere.subject
    assert _section(owner, "newcomers").count == 2


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_the_owner_sees_every_kind_of_work_the_most_urgent_first(org_a):
    group = CommunityFactory(organization=org_a.org)
    org = org_a.org
    MembershipFactory(organization=org, community=group, status="onboarding")
    MembershipFactory(
        organization=org,
        community=group,
        status="dormant",
        dormant_since=NOW - timedelta(days=3),
        last_active_at=NOW - timedelta(days=17),
    )
    MembershipFactory(organization=org, community=group, status="dormant", reminders_sent=1)
    MembershipFactory(organization=org, community=group, flags=["blocked"])
    MembershipFactory(organization=org, community=group, status="left", flags=["blocked"])
    ScheduledPost.objects.create(
        organization=org,
        community=group,
        scheduled_at=NOW + timedelta(hours=5),
        content_type="tips",
        text="周一干货",
        status="draft",
    )
    sale = CampaignFactory(organization=org, ends_at=NOW + timedelta(hours=2), stock_left=3)
    CampaignFactory(organization=org, stock_left=0)  # sold out
    CampaignFactory(organization=org, starts_at=NOW + timedelta(hours=1))  # not live yet
    group_buy = CampaignFactory(organization=org, kind="group_buy", team_size=3, team_hours=24)
    for campaign in (sale, group_buy):
        CampaignTarget.objects.create(organization=org, campaign=campaign, community=group)
    leader = MembershipFactory(organization=org, community=group).member
    Team.objects.create(
        organization=org, campaign=group_buy, leader=leader, deadline=NOW + timedelta(hours=3)
    )
    Team.objects.create(
        organization=org, campaign=group_buy, leader=leader, deadline=NOW + timedelta(days=2)
    )
    CaseFactory(organization=org, community=group, opened_at=NOW - timedelta(minutes=30))

    home = _home(org_a, org_a.owner)
    # overdue first; then by deadline (sale ends in 2 h, the group buy's live window in 1 h…)
    assert _sections(home)[0] == "cases"
    assert set(_sections(home)) == {
        "cases",
        "live-sales",
        "teams",
        "drafts",
        "newcomers",
        "flagged",
        "dormant",
    }
    deadlines = [s.first_deadline for s in home.context["today"] if s.first_deadline]
    assert deadlines[1:] == sorted(deadlines[1:])
    assert _sections(home)[-3:] == ["newcomers", "flagged", "dormant"]  # no deadline: by order
    assert _section(home, "dormant").count == 1  # the reminded one waits for its cooldown
    assert _section(home, "dormant").items[0].meta.endswith("沉默了 17 天")
    assert _section(home, "flagged").count == 1  # the one who left needs no review
    assert _section(home, "flagged").items[0].meta.endswith("在黑名单中")
    sales = _section(home, "live-sales")
    assert sales.count == 2 and sales.items[0].title == group_buy.name  # ends first
    assert sales.items[1].meta == "还剩 3 件（共 10 件）"
    teams = _section(home, "teams")
    assert teams.count == 1 and teams.items[0].meta.endswith("已有 0/3 人")
    assert _section(home, "drafts").items[0].deadline == NOW + timedelta(hours=5)


@pytest.mark.django_db
def test_a_long_list_shows_the_first_five_and_how_many_more(org_a):
    group = CommunityFactory(organization=org_a.org)
    for _ in range(8):
        MembershipFactory(organization=org_a.org, community=group, status="joined")
    home = _home(org_a, org_a.owner)
    newcomers = _section(home, "newcomers")
    assert newcomers.count == 8 and len(newcomers.items) == 5 and newcomers.more == 3
    assert "还有 3 个" in home.content.decode()


@pytest.mark.django_db
def test_nothing_to_do_says_so(org_a):
    home = _home(org_a, org_a.analyst)
    assert home.context["today"] == []
    assert 'data-testid="today-empty"' in home.content.decode()


def test_sections_sort_overdue_then_deadline_then_order():
    now = timezone.now()
    later = TodaySection("later", "", 1, [TodayItem("a", deadline=now + timedelta(hours=3))])
    sooner = TodaySection(
        "sooner", "", 1, [TodayItem("b", deadline=now + timedelta(hours=1), deadline_kind="ends")]
    )
    overdue = TodaySection(
        "overdue", "", 1, [TodayItem("c", deadline=now - timedelta(minutes=1))], order=99
    )
    plain_first = TodaySection("plain-first", "", 1, [TodayItem("d")], order=1)
    plain_second = TodaySection("plain-second", "", 1, [TodayItem("e")], order=2)
    ordered = sorted([plain_second, later, plain_first, sooner, overdue], key=TodaySection.sort_key)
    assert [s.key for s in ordered] == ["overdue", "sooner", "later", "plain-first", "plain-second"]


# --- figures ---------------------------------------------------------------------------------


def _ids(first, last) -> bytes:
    return BitMap64(range(first, last + 1)).serialize()


def _day(org, community, day, **values):
    CommunityDay.objects.create(organization=org, community=community, day=day, **values)


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_figures_come_from_the_rollups(org_a):
    org = org_a.org
    mine, other = CommunityFactory(organization=org), CommunityFactory(organization=org)
    _deputy_of(org_a, mine)
    today = date(2026, 11, 18)
    _day(org, mine, today - timedelta(days=20), members_end=100, net=100)
    _day(org, mine, today - timedelta(days=10), members_end=98, net=-2, orders=4, revenue=400)
    _day(org, mine, today - timedelta(days=3), members_end=105, net=7, speakers=9, orders=2,
         revenue=Decimal("199.80"), speaker_ids=_ids(1, 9))  # fmt: skip
    _day(org, mine, today, members_end=106, net=1, speakers=4, orders=1, revenue=99,
         speaker_ids=_ids(1, 4))  # fmt: skip
    _day(org, other, today, members_end=50, net=50, speakers=5, orders=3, revenue=300,
         speaker_ids=_ids(1, 5))  # fmt: skip

    figures = {f.key: f for f in _home(org_a, org_a.owner).context["figures"]}
    assert list(figures) == ["members", "speakers", "orders", "revenue"]
    members = figures["members"]
    assert (members.today, members.week, members.previous_week) == (156, 58, -2)
    orders = figures["orders"]
    assert (orders.today, orders.week, orders.previous_week) == (4, 6, 4)
    assert orders.change == 0.5 and orders.direction == "up"
    revenue = figures["revenue"]
    assert (revenue.today, revenue.week) == (Decimal("399"), Decimal("598.80"))
    assert revenue.previous_week == Decimal("400")
    speakers = figures["speakers"]  # distinct in each group over the week: 9 and 5
    assert (speakers.today, speakers.week, speakers.previous_week) == (9, 14, 0)

    deputy = {f.key: f for f in _home(org_a, org_a.deputy).context["figures"]}
    assert list(deputy) == ["members", "speakers", "orders"]  # no revenue without the right
    assert (deputy["members"].today, deputy["orders"].today) == (106, 1)
    analyst = {f.key: f for f in _home(org_a, org_a.analyst).context["figures"]}
    assert "revenue" in analyst


@pytest.mark.django_db
def test_no_groups_no_figures(org_a):
    assert _home(org_a, org_a.owner).context["figures"] == []
    # a deputy of no group sees none either
    assert _home(org_a, org_a.deputy).context["figures"] == []
    assert not Membership.objects.for_org(org_a.org).exists()
