import itertools
from datetime import UTC, datetime, timedelta

import pytest

from communities import services as community_services

_ids = itertools.count(1)
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def ev(type_, user="u1", community="g1", at=0, **extra):
    """One event; `at` is minutes after T0."""
    return {
        "id": f"e{next(_ids)}",
        "type": type_,
        "occurred_at": (T0 + timedelta(minutes=at)).isoformat(),
        "platform": "wechat",
        "community": community,
        "user": user,
        **extra,
    }


@pytest.fixture
def group(org_a):
    """A health-food group with the seed template's rules (1 warning before removal)."""
    community = community_services.community_create(
        actor=org_a.actor(), name="健康交流1群", external_id="g1"
    )
    community_services.rules_apply_template(
        actor=org_a.actor(), community=community, template="health_food"
    )
    return community


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
