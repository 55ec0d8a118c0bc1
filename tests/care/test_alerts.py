"""Member care tells staff what is theirs: a case assigned to them (by hand, by default, from
a complaint keyword) and a first response about to be late; each once."""

from datetime import UTC, datetime, timedelta

import pytest

from care import alerts, services
from care.tasks import alert_due_cases
from tenancy.models import Notification
from tests.factories import CaseFactory

from .conftest import ev


def _told(org, kind=None):
    rows = Notification.objects.for_org(org)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted((n.user_id, n.key) for n in rows)


def test_a_case_opened_by_hand_tells_the_groups_deputy(org_a, group, member_in):
    case = services.case_open(
        actor=org_a.actor(),
        member=member_in(group),
        community=group,
        kind="complaint",
        subject="漏液",
    )
    assert case.assignee == org_a.deputy
    assert _told(org_a.org) == [(org_a.deputy.pk, f"case:{case.pk}:assigned:opened")]
    row = Notification.objects.for_org(org_a.org).get()
    assert row.url == f"/o/{org_a.org.slug}/care/{case.pk}/"
    assert row.params == {"case": case.pk, "subject": "漏液"}


def test_who_opens_a_case_for_themself_is_not_told(org_a, group, member_in, deputy):
    case = services.case_open(
        actor=deputy, member=member_in(group), community=group, kind="complaint", subject="漏液"
    )
    assert case.assignee == org_a.deputy
    assert _told(org_a.org) == []


def test_handing_a_case_over_tells_the_new_assignee_each_time(org_a, group, member_in):
    owner = org_a.actor()
    case = services.case_open(
        actor=owner,
        member=member_in(group),
        community=group,
        kind="refund",
        subject="退款",
        assignee=org_a.manager,
    )
    services.case_assign(actor=owner, case=case, assignee=org_a.deputy)
    services.case_assign(actor=owner, case=case, priority="urgent")  # no new assignee
    services.case_assign(actor=owner, case=case, assignee=org_a.manager)
    told = _told(org_a.org, alerts.ASSIGNED)
    assert [u for u, _k in told].count(org_a.manager.pk) == 2
    assert [u for u, _k in told].count(org_a.deputy.pk) == 1
    assert len(told) == 3
    # taking a case oneself tells nobody
    services.case_assign(actor=org_a.actor(org_a.manager), case=case, assignee=org_a.owner)
    services.case_assign(actor=org_a.actor(org_a.owner), case=case, assignee=org_a.owner)
    assert len(_told(org_a.org, alerts.ASSIGNED)) == 4  # the manager handed it to the owner


def test_a_complaint_keyword_tells_the_deputy_once(org_a, group, post):
    event = ev("message.posted", text="这个产品质量太差了")
    post([event, ev("message.posted", text="还要投诉", at=1)])
    post([event])  # resent
    assert len(_told(org_a.org, alerts.ASSIGNED)) == 1
    assert _told(org_a.org)[0][0] == org_a.deputy.pk


NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, within service hours


@pytest.mark.time_machine(NOW, tick=False)
def test_a_first_response_about_to_be_late_is_told_once(org_a, group, member_in):
    def case(due_in, **kwargs):
        return CaseFactory(
            organization=org_a.org,
            community=group,
            member=member_in(group),
            first_response_due_at=NOW + due_in,
            **kwargs,
        )

    soon = case(timedelta(minutes=3), assignee=org_a.deputy)
    late = case(timedelta(minutes=-20), assignee=org_a.deputy)
    nobodys = case(timedelta(minutes=4))
    case(timedelta(minutes=30), assignee=org_a.deputy)  # not yet
    case(timedelta(minutes=2), assignee=org_a.deputy, responded_at=NOW)  # answered
    case(timedelta(days=-2), assignee=org_a.deputy)  # long past: not announced any more
    assert alert_due_cases.apply(args=[org_a.org.pk]).get() == 4
    assert _told(org_a.org, alerts.DUE) == sorted(
        [
            (org_a.deputy.pk, f"case:{soon.pk}:due"),
            (org_a.deputy.pk, f"case:{late.pk}:due"),
            (org_a.owner.pk, f"case:{nobodys.pk}:due"),  # no assignee: owners and managers
            (org_a.manager.pk, f"case:{nobodys.pk}:due"),
        ]
    )
    assert alert_due_cases.apply(args=[org_a.org.pk]).get() == 0  # the next minute's run
    row = Notification.objects.for_org(org_a.org).get(key=f"case:{soon.pk}:due")
    from tenancy.notify import text_of

    assert text_of(row, org_a.org) == (
        f"工单 #{soon.pk} 须在 11-20 12:03 前首次回应：{soon.subject}"
    )


def test_the_warning_comes_half_the_target_ahead_for_short_targets():
    from care.models import CareSettings

    assert alerts.lead(CareSettings(first_response_minutes=10)) == timedelta(minutes=5)
    assert alerts.lead(CareSettings(first_response_minutes=4)) == timedelta(minutes=2)
    assert alerts.lead(CareSettings(first_response_minutes=120)) == timedelta(minutes=5)
