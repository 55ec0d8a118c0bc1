"""The first-response clock runs in the organization's service hours and time zone."""

import zoneinfo
from datetime import UTC, datetime, time

import pytest
from django.utils import timezone

from care import services, sla
from care.models import CareSettings
from care.selectors import overdue_q, queue_counts
from tests.factories import CaseFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def local(tz, *args):
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("opened", "started", "due"),
    [
        ((2026, 3, 1, 12, 0), (2026, 3, 1, 12, 0), (2026, 3, 1, 12, 10)),  # in hours
        ((2026, 3, 1, 23, 30), (2026, 3, 2, 8, 0), (2026, 3, 2, 8, 10)),  # after closing
        ((2026, 3, 1, 6, 0), (2026, 3, 1, 8, 0), (2026, 3, 1, 8, 10)),  # before opening
        ((2026, 3, 1, 21, 55), (2026, 3, 1, 21, 55), (2026, 3, 2, 8, 5)),  # carries over
    ],
)
def test_clock_in_service_hours(opened, started, due):
    got = sla.clock(local(SHANGHAI, *opened), 10, SHANGHAI, time(8), time(22))
    assert got == (local(SHANGHAI, *started), local(SHANGHAI, *due))


def test_the_same_instant_is_in_hours_in_one_zone_and_not_in_another():
    instant = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, 23:00 in New York
    in_shanghai = sla.clock(instant, 10, SHANGHAI, time(8), time(22))
    in_new_york = sla.clock(instant, 10, NEW_YORK, time(8), time(22))
    assert in_shanghai[1] == datetime(2026, 6, 1, 3, 10, tzinfo=UTC)
    assert in_new_york[1] == local(NEW_YORK, 2026, 6, 1, 8, 10)


def test_clock_across_a_daylight_saving_change():
    # New York springs forward on 2026-03-08: 08:00 that morning is 12:00 UTC, not 13:00.
    started, due = sla.clock(local(NEW_YORK, 2026, 3, 7, 23, 0), 10, NEW_YORK, time(8), time(22))
    assert started == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert due == datetime(2026, 3, 8, 12, 10, tzinfo=UTC)


def test_overnight_service_hours_and_around_the_clock():
    assert sla.clock(local(SHANGHAI, 2026, 3, 1, 1, 55), 10, SHANGHAI, time(20), time(2))[1] == (
        local(SHANGHAI, 2026, 3, 1, 20, 5)
    )
    opened = local(SHANGHAI, 2026, 3, 1, 3, 0)
    assert sla.clock(opened, 10, SHANGHAI, time(0), time(0)) == (
        opened,
        local(SHANGHAI, 2026, 3, 1, 3, 10),
    )


def test_a_long_target_spans_several_days():
    _started, due = sla.clock(local(SHANGHAI, 2026, 3, 1, 21, 0), 1440, SHANGHAI, time(8), time(22))
    # 60 min on day 1, 14 h on day 2, the remaining 9 h on day 3
    assert due == local(SHANGHAI, 2026, 3, 3, 17, 0)


def test_case_open_uses_the_orgs_settings_and_time_zone(org_a, group, member_in, deputy):
    org_a.org.time_zone = "America/New_York"
    org_a.org.save()
    CareSettings.objects.create(
        organization=org_a.org,
        first_response_minutes=15,
        service_start=time(9),
        service_end=time(17),
    )
    deputy.organization.refresh_from_db()
    case = services.case_open(
        actor=deputy, member=member_in(group), community=group, kind="complaint", subject="x"
    )
    opened_local = case.opened_at.astimezone(NEW_YORK)
    started_local = case.clock_started_at.astimezone(NEW_YORK)
    assert time(9) <= started_local.time() <= time(17)
    assert started_local >= opened_local
    assert (case.first_response_due_at - case.clock_started_at).total_seconds() <= 15 * 60


def test_overdue_is_unanswered_past_the_deadline(org_a, group):
    now = timezone.now()
    late = CaseFactory(
        organization=org_a.org,
        community=group,
        opened_at=now - timezone.timedelta(minutes=30),
        first_response_due_at=now - timezone.timedelta(minutes=20),
    )
    CaseFactory(organization=org_a.org, community=group)  # due in ten minutes
    answered = CaseFactory(
        organization=org_a.org,
        community=group,
        opened_at=now - timezone.timedelta(minutes=30),
        first_response_due_at=now - timezone.timedelta(minutes=20),
        status="responded",
        responded_at=now,
    )
    from care.models import Case

    overdue = set(Case.objects.for_org(org_a.org).filter(overdue_q()).values_list("pk", flat=True))
    assert overdue == {late.pk}
    assert late.is_overdue() and not answered.is_overdue() and answered.responded_late
    assert queue_counts(org_a.actor())["overdue"] == 1
