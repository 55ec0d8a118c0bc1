"""Role scoping: a deputy sees and handles only the cases of their groups; analysts read."""

import pytest

from care.selectors import overview_counts, visible_cases, visible_follow_ups
from tests.factories import CaseFactory, FollowUpTaskFactory


@pytest.fixture
def cases(org_a, group, other_group):
    return {
        "mine": CaseFactory(organization=org_a.org, community=group),
        "other": CaseFactory(organization=org_a.org, community=other_group),
        "no_group": CaseFactory(organization=org_a.org, community=None),
    }


def test_deputy_sees_only_the_cases_of_their_groups(org_a, cases, group, other_group):
    deputy = org_a.actor(org_a.deputy)
    assert set(visible_cases(deputy)) == {cases["mine"]}
    assert set(visible_cases(org_a.actor(org_a.analyst))) == set(cases.values())
    FollowUpTaskFactory(organization=org_a.org, community=group)
    FollowUpTaskFactory(organization=org_a.org, community=other_group)
    assert [t.community for t in visible_follow_ups(deputy)] == [group]
    assert overview_counts(deputy)["open"] == 1
    assert overview_counts(org_a.actor())["open"] == 3


def test_deputy_pages(org_a, cases):
    client = org_a.client_for(org_a.deputy)
    slug = org_a.org.slug
    queue = client.get(f"/o/{slug}/care/?queue=open")
    assert queue.status_code == 200
    assert cases["mine"].subject in queue.text and cases["other"].subject not in queue.text
    assert client.get(f"/o/{slug}/care/{cases['mine'].pk}/").status_code == 200
    assert client.get(f"/o/{slug}/care/{cases['other'].pk}/").status_code == 404
    assert client.get(f"/o/{slug}/care/{cases['no_group'].pk}/").status_code == 404
    step = client.post(f"/o/{slug}/care/{cases['other'].pk}/step/", {"step": "responded"})
    assert step.status_code == 404
    assert client.get(f"/o/{slug}/care/settings/").status_code == 403


def test_analyst_reads_but_may_not_act(org_a, cases):
    client = org_a.client_for(org_a.analyst)
    slug = org_a.org.slug
    assert client.get(f"/o/{slug}/care/{cases['other'].pk}/").status_code == 200
    response = client.post(f"/o/{slug}/care/{cases['other'].pk}/step/", {"step": "responded"})
    assert response.status_code == 403
    assert client.get(f"/o/{slug}/care/new/").status_code == 403


def test_staff_without_groups_has_no_care_pages(org_a, cases):
    from communities.models import StaffAssignment

    StaffAssignment.objects.for_org(org_a.org).update(ended_at=cases["mine"].opened_at)
    client = org_a.client_for(org_a.deputy)
    assert client.get(f"/o/{org_a.org.slug}/care/").status_code == 403
