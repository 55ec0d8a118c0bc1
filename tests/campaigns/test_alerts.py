"""Campaigns tell staff of a group-buy team about to fail and of the monthly budget about to
run out (or gone), once each, through the Celery scan."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import alerts, group_buys
from campaigns.models import Campaign, Team
from campaigns.tasks import alert_staff
from communities.models import StaffAssignment
from tenancy.models import Notification
from tenancy.notify import text_of

from ..factories import OrgMembershipFactory, UserFactory
from .test_flash_sales import _buyers
from .test_group_buys import group_buy  # noqa: F401 - the fixture


def _told(org, kind):
    return sorted((n.user_id, n.key) for n in Notification.objects.for_org(org).filter(kind=kind))


@pytest.fixture
def benefits(org_a, group_buy):  # noqa: F811
    _actor, group, _campaign = group_buy
    user = UserFactory(email="benefits-a@example.com")
    OrgMembershipFactory(organization=org_a.org, user=user, role="staff")
    StaffAssignment.objects.create(
        organization=org_a.org, community=group, user=user, role="benefits_officer"
    )
    # a deputy of the same group does not run campaigns
    StaffAssignment.objects.create(
        organization=org_a.org, community=group, user=org_a.deputy, role="deputy"
    )
    return user


def test_a_team_short_of_members_near_its_deadline_is_told_once(org_a, group_buy, benefits):  # noqa: F811
    actor, group, campaign = group_buy
    leader, friend, other = _buyers(org_a.org, group, 3)
    failing = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    later = group_buys.team_open(actor=actor, campaign=campaign, member=other)
    full = group_buys.team_open(actor=actor, campaign=campaign, member=friend)
    now = timezone.now()
    Team.objects.for_org(org_a.org).filter(pk__in=[failing.pk, full.pk]).update(
        deadline=now + timedelta(minutes=40)
    )
    Team.objects.for_org(org_a.org).filter(pk=full.pk).update(status="succeeded")
    assert later.deadline > now + timedelta(hours=2)
    assert alert_staff.apply(args=[org_a.org.pk]).get() == 2
    key = f"team:{failing.pk}:failing"
    # the campaign's creator (the owner) and the group's benefits officer; not the deputy
    assert _told(org_a.org, alerts.TEAM_FAILING) == sorted(
        [(org_a.owner.pk, key), (benefits.pk, key)]
    )
    assert alert_staff.apply(args=[org_a.org.pk]).get() == 0
    row = Notification.objects.for_org(org_a.org).filter(user=benefits).get()
    deadline = (now + timedelta(minutes=40)).astimezone(org_a.org.tzinfo).strftime("%m-%d %H:%M")
    assert text_of(row, org_a.org) == f"两人拼团 的一个团已有 1/2 人，{deadline} 前未成团将失败。"
    assert row.url == f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/"


def test_a_team_with_no_one_running_the_campaign_goes_to_owners_and_managers(
    org_a,
    group_buy,  # noqa: F811
):
    actor, group, campaign = group_buy
    Campaign.objects.for_org(org_a.org).filter(pk=campaign.pk).update(created_by=None)
    (leader,) = _buyers(org_a.org, group, 1)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    Team.objects.for_org(org_a.org).filter(pk=team.pk).update(
        deadline=timezone.now() + timedelta(minutes=5)
    )
    alert_staff.apply(args=[org_a.org.pk]).get()
    assert [u for u, _k in _told(org_a.org, alerts.TEAM_FAILING)] == sorted(
        [org_a.owner.pk, org_a.manager.pk]
    )


NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.mark.time_machine(NOW, tick=False)
def test_the_budget_about_to_run_out_and_then_gone_is_told_once_each(org_a, group_buy):  # noqa: F811
    _actor, _group, campaign = group_buy
    org = org_a.org
    org.monthly_campaign_budget = Decimal("1000")
    org.save(update_fields=["monthly_campaign_budget"])
    Campaign.objects.for_org(org).filter(pk=campaign.pk).update(cost=Decimal("850"), starts_at=NOW)
    assert alerts.alert_budget(org) == 0  # 850 + 100 is still within 1000
    Campaign.objects.for_org(org).filter(pk=campaign.pk).update(cost=Decimal("950"))
    assert alert_staff.apply(args=[org.pk]).get() == 2  # the owner and the manager
    assert alert_staff.apply(args=[org.pk]).get() == 0
    Campaign.objects.for_org(org).filter(pk=campaign.pk).update(cost=Decimal("1200"))
    assert alert_staff.apply(args=[org.pk]).get() == 2
    assert _told(org, alerts.BUDGET_OVER) == sorted(
        [(org_a.owner.pk, "budget:2026-11:over"), (org_a.manager.pk, "budget:2026-11:over")]
    )
    row = Notification.objects.for_org(org).filter(user=org_a.owner, kind=alerts.BUDGET_NEAR).get()
    assert text_of(row, org) == "2026-11 的活动已花费 ¥950.00，预算为 ¥1000.00。"
    over = Notification.objects.for_org(org).filter(user=org_a.owner, kind=alerts.BUDGET_OVER)
    assert text_of(over.get(), org) == "2026-11 的活动花费 ¥1200.00，已超出 ¥1000.00 的预算。"


@pytest.mark.time_machine(NOW, tick=False)
def test_next_months_planned_campaigns_count_for_next_month(org_a, group_buy):  # noqa: F811
    _actor, _group, campaign = group_buy
    org = org_a.org
    org.monthly_campaign_budget = Decimal("100")
    org.save(update_fields=["monthly_campaign_budget"])
    Campaign.objects.for_org(org).filter(pk=campaign.pk).update(
        cost=Decimal("150"), starts_at=datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
    )
    alerts.alert_budget(org)
    assert {k for _u, k in _told(org, alerts.BUDGET_OVER)} == {"budget:2026-12:over"}
    org.monthly_campaign_budget = None
    org.save(update_fields=["monthly_campaign_budget"])
    assert alerts.alert_budget(org) == 0
