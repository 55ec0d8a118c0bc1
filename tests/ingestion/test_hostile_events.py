"""Bad events are rejected one by one and the good ones kept; a resent event creates nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.models import Community
from members.models import Member, RawEvent

from ..members.conftest import ev


@pytest.fixture
def post(org_a):
    client = org_a.api_client()

    def _post(events):
        response = client.post(
            "/api/v1/events/", {"events": events}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return _post


@pytest.mark.parametrize("field", ["display_name", "user", "community", "id"])
def test_a_nul_character_rejects_that_event_only(org_a, post, field):
    bad = ev("member.joined", user="u3")
    bad[field] = bad[field] + "\x00x" if bad.get(field) else "a\x00b"
    result = post([ev("member.joined", user="u1"), bad, ev("member.joined", user="u2", at=1)])
    assert result["accepted"] == 2
    assert [r["index"] for r in result["rejected"]] == [1]
    assert list(result["rejected"][0]["errors"]) == [field]
    assert RawEvent.objects.for_org(org_a.org).count() == 2


def test_a_lone_surrogate_is_rejected(org_a, post):
    bad = ev("message.posted", text="hi \ud800 there")
    result = post([bad, ev("member.joined", user="u2")])
    assert result["accepted"] == 1
    assert list(result["rejected"][0]["errors"]) == ["text"]


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("9999-12-31T23:59:59+00:00", "一天以上"),
        ("0001-01-01T00:00:00+08:00", "超出"),
        ("1999-12-31T00:00:00+00:00", "2000"),
    ],
)
def test_times_out_of_range_are_rejected_per_event(org_a, post, occurred_at, message):
    bad = {**ev("member.joined", user="u3"), "occurred_at": occurred_at}
    result = post([bad, ev("member.joined")])
    assert result["accepted"] == 1
    [errors] = [r["errors"] for r in result["rejected"]]
    assert message in errors["occurred_at"][0]


def test_events_more_than_a_day_ahead_are_rejected(org_a, post):
    soon = ev("member.joined", user="u2")
    soon["occurred_at"] = (timezone.now() + timedelta(hours=20)).isoformat()
    late = ev("member.joined", user="u3")
    late["occurred_at"] = (timezone.now() + timedelta(days=2)).isoformat()
    result = post([soon, late])
    assert result["accepted"] == 1
    assert result["rejected"] == [
        {"index": 1, "errors": {"occurred_at": ["该时间比现在晚了一天以上。"]}}
    ]


def test_a_resent_event_with_another_group_and_user_creates_nothing(org_a, post):
    first = ev("member.joined", user="u1", community="g1")
    assert post([first])["accepted"] == 1
    groups, people = (
        Community.objects.for_org(org_a.org).count(),
        Member.objects.for_org(org_a.org).count(),
    )
    resent = {**first, "community": "g-new", "user": "u-new"}
    assert post([resent]) == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert Community.objects.for_org(org_a.org).count() == groups
    assert Member.objects.for_org(org_a.org).count() == people
