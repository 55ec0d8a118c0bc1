import pytest

from communities.models import StaffAssignment
from tests.factories import CommunityFactory, MembershipFactory
from tests.members.conftest import ev  # noqa: F401 - shared event builder

__all__ = ["ev"]


@pytest.fixture
def group(org_a):
    """A group whose deputy is org_a.deputy (external id g1, like the ingestion tests)."""
    community = CommunityFactory(organization=org_a.org, name="健康交流1群", external_id="g1")
    StaffAssignment.objects.create(
        organization=org_a.org, community=community, user=org_a.deputy, role="deputy"
    )
    return community


@pytest.fixture
def other_group(org_a):
    """A group org_a.deputy is not staff of."""
    return CommunityFactory(organization=org_a.org, name="健康交流2群", external_id="g2")


@pytest.fixture
def member_in(org_a):
    def _make(community):
        return MembershipFactory(organization=org_a.org, community=community).member

    return _make


@pytest.fixture
def post(org_a):
    client = org_a.api_client()

    def _post(events, status=200):
        response = client.post(
            "/api/v1/events/", {"events": events}, content_type="application/json"
        )
        assert response.status_code == status, response.content
        return response.json()

    return _post


@pytest.fixture
def deputy(org_a):
    return org_a.actor(org_a.deputy)
