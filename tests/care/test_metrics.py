"""`response_times` for the staff performance page: medians per group and per person."""

from datetime import timedelta

import pytest
from django.utils import timezone

from care.selectors import response_times
from tests.factories import CaseFactory, CommunityFactory


def _case(org, community, start, first=None, resolved=None, responder=None, resolver=None):
    return CaseFactory(
        organization=org,
        community=community,
        opened_at=start,
        clock_started_at=start,
        first_response_due_at=start + timedelta(minutes=10),
        responded_at=start + timedelta(minutes=first) if first is not None else None,
        responded_by=responder,
        resolved_at=start + timedelta(minutes=resolved) if resolved is not None else None,
        resolved_by=resolver,
        resolution="refund" if resolved is not None else "",
        status="resolved" if resolved is not None else ("responded" if first else "open"),
    )


@pytest.fixture
def window():
    start = timezone.now() - timedelta(days=7)
    return start, start + timedelta(days=7)


def test_medians_per_group_and_per_person(org_a, group, window):
    org, (start, end) = org_a.org, window
    other = CommunityFactory(organization=org)
    t = start + timedelta(hours=1)
    _case(org, group, t, first=2, resolved=60, responder=org_a.deputy, resolver=org_a.deputy)
    _case(org, group, t, first=4, resolved=120, responder=org_a.deputy, resolver=org_a.manager)
    _case(org, group, t, first=30, responder=org_a.manager)
    _case(org, group, t)  # not answered yet: counts as a case, in no median
    _case(org, other, t, first=1)  # answered by an API key: no person
    _case(org, group, start - timedelta(seconds=1), first=1, responder=org_a.deputy)  # before
    _case(org, group, end, first=1, responder=org_a.deputy)  # [start, end): excluded
    result = response_times(org, start=start, end=end)
    assert result["by_community"][group.pk] == {
        "median_first_response_seconds": 240.0,
        "median_resolution_seconds": 90 * 60.0,
        "cases": 4,
    }
    assert result["by_community"][other.pk]["median_first_response_seconds"] == 60.0
    assert result["by_staff"][org_a.deputy.pk] == {
        "median_first_response_seconds": 180.0,
        "median_resolution_seconds": 3600.0,
        "cases": 2,
    }
    assert result["by_staff"][org_a.manager.pk] == {
        "median_first_response_seconds": 1800.0,
        "median_resolution_seconds": 7200.0,
        "cases": 1,
    }
    only = response_times(org, start=start, end=end, community_ids=[other.pk])
    assert list(only["by_community"]) == [other.pk] and only["by_staff"] == {}


def test_other_orgs_cases_never_count(org_a, org_b, window):
    start, end = window
    _case(org_b.org, CommunityFactory(organization=org_b.org), start, first=1)
    assert response_times(org_a.org, start=start, end=end) == {"by_community": {}, "by_staff": {}}
