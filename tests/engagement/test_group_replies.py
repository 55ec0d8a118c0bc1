"""Answers replied in the group: a message that is only a choice's number answers the group's
newest open poll, through the events API, with the page's rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagement.batch import numbers_in
from engagement.models import Answer, Response
from engagement.services import AnswerRefused

from .conftest import choice_ids, create_poll, ev


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


def _now(minutes=0):
    return (timezone.now() + timedelta(minutes=minutes)).isoformat()


def say(text, user="u1", community="g1", minutes=0, **extra):
    event = ev("message.posted", user=user, community=community, text=text, **extra)
    event["occurred_at"] = _now(minutes)
    return event


def _votes(org, poll):
    """{member's platform id: [choice positions]}"""
    found: dict = {}
    for answer in (
        Answer.objects.for_org(org).filter(poll=poll).select_related("choice", "response__member")
    ):
        user = answer.response.member.identities.get().external_user_id
        found.setdefault(user, []).append(answer.choice.position)
    return {user: sorted(positions) for user, positions in found.items()}


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("2", [2]),
        (" 2 ", [2]),
        ("２", [2]),  # full-width, as phone keyboards type it
        ("1 3", [1, 3]),
        ("1，3", [1, 3]),
        ("1、3、1", [1, 3]),
        ("我选2", None),
        ("2号", None),
        ("12345", None),
        ("", None),
        (None, None),
        ("2.5", None),
    ],
)
def test_what_counts_as_a_vote(text, numbers):
    assert numbers_in(text) == numbers


def test_replying_a_number_answers_the_poll_once(org_a, poll, people, post):
    post([say("2"), say("3", user="u2"), say("1", minutes=1)])  # 甲 changes their mind: too late
    post([say("3", user="u1", minutes=2)])
    assert _votes(org_a.org, poll) == {"u1": [2], "u2": [3]}
    response = Response.objects.for_org(org_a.org).get(member=people[0])
    assert response.via == "group" and response.community.external_id == "g1"
    assert response.source_event_id


def test_a_resent_reply_changes_nothing(org_a, poll, people, post):
    event = say("2")
    post([event])
    assert post([event])["duplicates"] == 1
    assert Response.objects.for_org(org_a.org).count() == 1


def test_ordinary_messages_and_wrong_numbers_are_left_alone(org_a, poll, people, post):
    post([say("我觉得2不错"), say("7", user="u2"), say("1 2", user="u3")])  # single choice
    assert not Response.objects.for_org(org_a.org).exists()


def test_several_numbers_answer_a_multiple_choice_poll(org_a, group, people, post):
    several = create_poll(org_a.actor(), [group], multiple=True)
    post([say("3 1")])
    assert _votes(org_a.org, several) == {"u1": [1, 3]}


def test_the_page_and_the_group_share_one_answer_per_member(org_a, poll, people, post):
    from engagement import services
    from tenancy.actors import Actor

    post([say("2")])
    with pytest.raises(AnswerRefused):
        services.poll_answer(
            actor=Actor.for_member(people[0]),
            poll=poll,
            member=people[0],
            answers={poll.questions.get().pk: [choice_ids(poll)[0]]},
        )
    services.poll_answer(
        actor=Actor.for_member(people[1]),
        poll=poll,
        member=people[1],
        answers={poll.questions.get().pk: [choice_ids(poll)[0]]},
    )
    post([say("3", user="u2")])
    assert _votes(org_a.org, poll) == {"u1": [2], "u2": [1]}


def test_the_newest_open_poll_of_the_group_takes_the_reply(org_a, group, other_group, post):
    from tests.portal.conftest import make_member

    make_member(org_a.org, group, "甲", user_id="u1")
    make_member(org_a.org, other_group, "丁", user_id="u4")
    older = create_poll(org_a.actor(), [group, other_group], title="旧的")
    newer = create_poll(org_a.actor(), [group], title="新的")
    page_only = create_poll(org_a.actor(), [group], title="只在页面", group_replies=False)
    post([say("1"), say("2", user="u4", community="g2")])
    assert _votes(org_a.org, newer) == {"u1": [1]}
    assert _votes(org_a.org, older) == {"u4": [2]}  # the newest in g2
    assert _votes(org_a.org, page_only) == {}


def test_no_answer_after_the_closing_time(org_a, poll, people, post, time_machine):
    time_machine.move_to(poll.closes_at + timedelta(seconds=1), tick=False)
    post([say("2")])
    assert not Response.objects.for_org(org_a.org).exists()


def test_a_reply_written_after_the_close_does_not_count(org_a, poll, people, post):
    late = say("2")
    late["occurred_at"] = (poll.closes_at + timedelta(minutes=1)).isoformat()
    post([late])
    assert not Response.objects.for_org(org_a.org).exists()


def test_a_batch_without_votes_costs_no_query_of_this_stage(
    org_a, poll, people, django_assert_max_num_queries
):
    """The stage's flush does nothing (no query) when no message is only numbers."""
    from engagement.batch import PollEvents

    stage = PollEvents(batch=None)
    stage.on_message_posted(type("E", (), {"text": "大家好"})())
    with django_assert_max_num_queries(0):
        assert stage.flush() == 0


def test_query_count_does_not_grow_with_the_votes(
    org_a, group, post, django_assert_max_num_queries
):
    from tests.portal.conftest import make_member

    create_poll(org_a.actor(), [group])
    for n in range(1, 31):
        make_member(org_a.org, group, f"m{n}", user_id=f"v{n}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        post([say("1", user="v1"), say("2", user="v2")])
    with CaptureQueriesContext(connection) as many:
        post([say(str(1 + n % 3), user=f"v{n}") for n in range(3, 31)])
    assert Response.objects.for_org(org_a.org).count() == 30
    assert len(many.captured_queries) <= len(few.captured_queries) + 2
