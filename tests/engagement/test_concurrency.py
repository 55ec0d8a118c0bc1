"""One answer per member also when answers race: real parallel connections."""

import pytest

from communities import services as community_services
from engagement import services
from engagement.models import Answer, Response
from tenancy.actors import Actor
from tenancy.services import organization_create

from ..concurrency import run_concurrently
from ..portal.conftest import make_member
from .conftest import choice_ids, create_poll, first_question


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_answers_of_one_member_count_once():
    org = organization_create(name="投票并发", slug="poll-race", owner_email="poll@example.com")
    group = community_services.community_create(actor=Actor.system(org), name="g")
    member = make_member(org, group, "甲")
    poll = create_poll(Actor.system(org), [group])
    question, choices = first_question(poll), iter(choice_ids(poll) * 2)

    def answer():
        try:
            services.poll_answer(
                actor=Actor.for_member(member),
                poll=poll,
                member=member,
                answers={question.pk: [next(choices)]},
            )
            return "ok"
        except services.AnswerRefused as refused:
            return refused.code

    results = run_concurrently(answer, 6)
    assert results.count("ok") == 1 and results.count("already_answered") == 5
    assert Response.objects.for_org(org).count() == 1
    assert Answer.objects.for_org(org).count() == 1
