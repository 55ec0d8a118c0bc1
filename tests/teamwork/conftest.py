from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from communities.models import StaffAssignment
from tenancy.roles import OrgRole
from tests.factories import CommunityFactory, OrgMembershipFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday noon in Shanghai; its week runs from Monday 2026-03-09 to Sunday 2026-03-15.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=SHANGHAI)


def local(day, hour=0, minute=0):
    """An instant of a March 2026 day in Shanghai."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def group(org_a):
    return CommunityFactory(organization=org_a.org, name="健康交流1群", external_id="g1")


@pytest.fixture
def other_group(org_a):
    return CommunityFactory(organization=org_a.org, name="健康交流2群", external_id="g2")


@pytest.fixture
def assign(org_a):
    def _assign(user, community, role, at=None):
        return StaffAssignment.objects.create(
            organization=org_a.org,
            community=community,
            user=user,
            role=role,
            assigned_at=at or local(1),
        )

    return _assign


@pytest.fixture
def staff_user(org_a):
    def _make(email):
        user = UserFactory(email=email)
        OrgMembershipFactory(organization=org_a.org, user=user, role=OrgRole.STAFF)
        return user

    return _make
