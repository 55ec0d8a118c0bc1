import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from communities.models import Community
from metrics import rollups

_ids = itertools.count(1)


@pytest.fixture
def send(org_a):
    """Post events through the API (times in hours before now) and refresh the rollups."""
    client = org_a.api_client()

    def _send(*events):
        now = timezone.now()
        body = []
        for type_, user, hours_ago, extra in events:
            at: datetime = now - timedelta(hours=hours_ago)
            body.append(
                {
                    "id": f"m{next(_ids)}",
                    "type": type_,
                    "occurred_at": at.isoformat(),
                    "community": extra.pop("community", "g1"),
                    "user": user,
                    **extra,
                }
            )
        response = client.post("/api/v1/events/", {"events": body}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert not response.json()["rejected"]
        rollups.refresh(org_a.org)
        return Community.objects.for_org(org_a.org).get(external_id="g1")

    return _send


def ev(type_, user, hours_ago=1, **extra):
    return (type_, user, hours_ago, extra)


@pytest.fixture
def busy_group(send):
    """g1: four members joined 20 days ago; this week u1 and u2 post, u1 buys twice, u3 once;
    u4 left with a reason. Last week only u1 posted."""
    return send(
        *[ev("member.joined", f"u{n}", 24 * 20) for n in range(1, 5)],
        ev("message.posted", "u1", 24 * 9),
        ev("message.posted", "u1", 2),
        ev("message.posted", "u2", 3),
        ev("order.placed", "u1", 4, order_id="o1", amount="99"),
        ev("order.placed", "u1", 5, order_id="o2", amount="59"),
        ev("order.placed", "u3", 6, order_id="o3", amount="120"),
        ev("member.left", "u4", 24 * 2, reason="too_many_ads"),
    )
