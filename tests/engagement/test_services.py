"""Polls and surveys: posting (through the outbox, composed), answering once, closing (by
hand and at the closing time, with the results posted), and the suggestion box."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagement import services
from engagement.models import Answer, Poll, Response, Suggestion
from engagement.tasks import close_due_polls
from integrations.models import Action
from tenancy.actors import Actor

from .conftest import choice_ids, create_poll, first_question


def _announcements(org, poll=None):
    actions = Action.objects.for_org(org).filter(kind="group.announce").order_by("pk")
    if poll is not None:
        actions = actions.filter(payload__poll_id=poll.pk)
    return list(actions)


def test_a_poll_is_posted_in_each_of_its_groups(org_a, group, other_group):
    poll = create_poll(org_a.actor(), [group, other_group])
    actions = _announcements(org_a.org, poll)
    assert [a.community_id for a in actions] == [group.pk, other_group.pk]
    closes = timezone.localtime(poll.closes_at, org_a.org.tzinfo).strftime("%m-%d %H:%M")
    assert actions[0].payload["text"] == (
        f"投票：下次团购选哪个？\n1. 红枣\n2. 枸杞\n3. 桂圆\n回复选项编号即可投票，{closes} 截止。\n"
        f"在这里投票：http://127.0.0.1:8000/m/{org_a.org.slug}/p/{poll.pk}/"
    )
    assert actions[0].payload["community_external_id"] == "g1"
    assert poll.group_replies is True


def test_a_survey_is_posted_with_its_number_of_questions(org_a, group):
    survey = create_poll(
        org_a.actor(),
        [group],
        kind="survey",
        title="会员满意度调查",
        questions=[
            {"text": "满意吗？", "kind": "single", "choices": ["满意", "一般", "不满意"]},
            {"text": "", "kind": "single", "choices": []},  # a blank row of the form
            {"text": "想要什么活动？", "kind": "multiple", "choices": ["秒杀", "拼团"]},
            {"text": "还有什么建议？", "kind": "text"},
        ],
        group_replies=True,
    )
    assert survey.group_replies is False  # surveys are answered on the page only
    assert [q.position for q in survey.questions.all()] == [1, 2, 3]
    assert (
        _announcements(org_a.org, survey)[0]
        .payload["text"]
        .startswith("问卷：会员满意度调查（共 3 题），")
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": " "}, "title"),
        ({"questions": [{"kind": "single", "choices": ["只有一个"]}]}, "options"),
        ({"questions": [{"kind": "single", "choices": ["红枣", "红枣"]}]}, "options"),
        ({"questions": [{"kind": "single", "choices": [str(n) for n in range(11)]}]}, "options"),
        ({"questions": [{"kind": "text", "choices": []}]}, "options"),
        ({"hours": 0}, "closes_at"),
        ({"hours": 24 * 91}, "closes_at"),
        ({"kind": "vote"}, "kind"),
        ({"kind": "survey", "questions": [{"text": "", "kind": "single"}]}, "questions"),
        (
            {"kind": "survey", "questions": [{"text": "a", "kind": "text"}, {"text": "b"}]},
            "q2_kind",
        ),
        (
            {"kind": "survey", "questions": [{"text": "a", "kind": "single", "choices": ["x"]}]},
            "q1_options",
        ),
    ],
)
def test_bad_polls_are_refused_with_the_field_at_fault(org_a, group, changes, field):
    with pytest.raises(ValidationError) as exc:
        create_poll(org_a.actor(), [group], **changes)
    assert field in exc.value.message_dict
    assert not Poll.objects.for_org(org_a.org).exists()
    assert not _announcements(org_a.org)


def test_staff_post_only_in_their_own_groups(org_a, org_b, group, other_group):
    deputy = org_a.actor(org_a.deputy)
    create_poll(deputy, [group])
    with pytest.raises(PermissionDenied):
        create_poll(deputy, [group, other_group])
    with pytest.raises(PermissionDenied):
        create_poll(org_a.actor(org_a.analyst), [group])
    from tests.factories import CommunityFactory

    with pytest.raises(ValidationError):
        create_poll(org_a.actor(), [CommunityFactory(organization=org_b.org)])
    assert Poll.objects.for_org(org_a.org).count() == 1


def _answer(poll, member, choice_pk):
    return services.poll_answer(
        actor=Actor.for_member(member),
        poll=poll,
        member=member,
        answers={first_question(poll).pk: [choice_pk]},
    )


def test_one_answer_per_member(org_a, poll, people):
    first, second, _third = choice_ids(poll)
    response = _answer(poll, people[0], second)
    assert response.via == "page" and response.community.external_id == "g1"
    with pytest.raises(services.AnswerRefused) as exc:
        _answer(poll, people[0], first)
    assert exc.value.code == "already_answered"
    assert Answer.objects.for_org(org_a.org).get().choice_id == second


def test_the_database_holds_one_response_per_member_and_poll(org_a, poll, people):
    _answer(poll, people[0], choice_ids(poll)[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(organization=org_a.org, poll=poll, member=people[0], via="group")


def test_a_member_answers_only_for_themself_and_in_the_polls_groups(
    org_a, org_b, poll, people, other_group
):
    from tests.portal.conftest import make_member

    stranger = make_member(org_a.org, other_group, "外人")
    with pytest.raises(services.AnswerRefused) as exc:
        _answer(poll, stranger, choice_ids(poll)[0])
    assert exc.value.code == "not_in_group"
    with pytest.raises(PermissionDenied):
        services.poll_answer(
            actor=Actor.for_member(people[1]),
            poll=poll,
            member=people[0],
            answers={first_question(poll).pk: [choice_ids(poll)[0]]},
        )
    assert not Response.objects.for_org(org_a.org).exists()


@pytest.mark.parametrize(
    "given",
    [[], ["x"], [999999], "1", None],
)
def test_an_answer_must_be_one_of_the_choices(org_a, poll, people, given):
    with pytest.raises(ValidationError):
        services.poll_answer(
            actor=Actor.for_member(people[0]),
            poll=poll,
            member=people[0],
            answers={first_question(poll).pk: given},
        )
    assert not Response.objects.for_org(org_a.org).exists()


def test_single_choice_takes_one_and_multiple_takes_several(org_a, group, poll, people):
    a, b, _c = choice_ids(poll)
    with pytest.raises(ValidationError):
        services.poll_answer(
            actor=Actor.for_member(people[0]),
            poll=poll,
            member=people[0],
            answers={first_question(poll).pk: [a, b]},
        )
    several = create_poll(org_a.actor(), [group], multiple=True)
    x, _y, z = choice_ids(several)
    services.poll_answer(
        actor=Actor.for_member(people[0]),
        poll=several,
        member=people[0],
        answers={first_question(several).pk: [z, x, x]},
    )
    picked = (
        Answer.objects.for_org(org_a.org).filter(poll=several).values_list("choice_id", flat=True)
    )
    assert sorted(picked) == sorted([x, z])


def test_a_survey_needs_every_answer(org_a, group, people):
    survey = create_poll(
        org_a.actor(),
        [group],
        kind="survey",
        questions=[
            {"text": "满意吗？", "kind": "single", "choices": ["满意", "不满意"]},
            {"text": "还有什么建议？", "kind": "text"},
        ],
    )
    choice_q, text_q = survey.questions.all()
    satisfied = choice_q.choices.first()
    member = people[0]
    with pytest.raises(ValidationError) as exc:
        services.poll_answer(
            actor=Actor.for_member(member),
            poll=survey,
            member=member,
            answers={choice_q.pk: [satisfied.pk], text_q.pk: "  "},
        )
    assert f"q{text_q.pk}" in exc.value.message_dict
    services.poll_answer(
        actor=Actor.for_member(member),
        poll=survey,
        member=member,
        answers={choice_q.pk: [satisfied.pk], text_q.pk: "多一些秒杀"},
    )
    results = services.tally(survey)
    assert results["total"] == 1
    assert [r["votes"] for r in results["questions"][0]["rows"]] == [1, 0]
    assert [a.text for a in results["questions"][1]["texts"]] == ["多一些秒杀"]


def test_no_answer_after_the_closing_time(org_a, poll, people, time_machine):
    time_machine.move_to(poll.closes_at + timedelta(seconds=1), tick=False)
    with pytest.raises(services.AnswerRefused) as exc:
        _answer(poll, people[0], choice_ids(poll)[0])
    assert exc.value.code == "closed"  # even before the closing job ran
    assert Poll.objects.for_org(org_a.org).get().status == "open"


def test_the_closing_job_closes_due_polls_once_and_posts_the_results(
    org_a, group, poll, people, time_machine
):
    a, b, _c = choice_ids(poll)
    _answer(poll, people[0], a)
    _answer(poll, people[1], a)
    _answer(poll, people[2], b)
    later = create_poll(org_a.actor(), [group], hours=48, title="再下次呢？")
    assert close_due_polls.apply(args=[org_a.org.pk]).get() == 0
    time_machine.move_to(poll.closes_at + timedelta(minutes=1), tick=False)
    assert close_due_polls.apply(args=[org_a.org.pk]).get() == 1
    assert close_due_polls.apply(args=[org_a.org.pk]).get() == 0
    poll.refresh_from_db()
    assert poll.status == "closed" and poll.closed_at == poll.closes_at
    assert Poll.objects.for_org(org_a.org).get(pk=later.pk).status == "open"
    results = _announcements(org_a.org, poll)[-1]
    assert results.payload["text"] == (
        "投票结果：下次团购选哪个？\n1. 红枣：2 票（67%）\n2. 枸杞：1 票（33%）\n"
        "3. 桂圆：0 票（0%）\n共 3 人参与，谢谢！"
    )


def test_closing_by_hand(org_a, group, poll):
    deputy = org_a.actor(org_a.deputy)
    services.poll_close(actor=deputy, poll=poll)
    assert Poll.objects.for_org(org_a.org).get().status == "closed"
    with pytest.raises(ValidationError):
        services.poll_close(actor=deputy, poll=poll)
    with pytest.raises(PermissionDenied):
        services.poll_close(
            actor=org_a.actor(org_a.analyst), poll=create_poll(org_a.actor(), [group])
        )


# --- the suggestion box ------------------------------------------------------------------------


def test_a_member_leaves_an_idea_and_staffs_reply_reaches_them_through_the_bot(
    org_a, group, people
):
    member = people[0]
    idea = services.suggestion_create(
        actor=Actor.for_member(member),
        member=member,
        text="  希望多搞几场秒杀，最好在晚上8点以后  ",
    )
    assert idea.text == "希望多搞几场秒杀，最好在晚上8点以后" and idea.community == group
    with pytest.raises(PermissionDenied):
        services.suggestion_create(actor=Actor.for_member(people[1]), member=member, text="冒名")
    with pytest.raises(ValidationError):
        services.suggestion_create(actor=Actor.for_member(member), member=member, text=" ")
    with pytest.raises(PermissionDenied):
        services.suggestion_reply(actor=org_a.actor(org_a.deputy), suggestion=idea, text="好")
    reply = services.suggestion_reply(actor=org_a.actor(), suggestion=idea, text="好的，下周安排")
    assert reply.sent
    idea.refresh_from_db()
    assert idea.status == "replied" and idea.replied_at is not None
    action = Action.objects.for_org(org_a.org).get(kind="member.notify")
    assert action.member_id == member.pk
    assert action.payload["user_external_id"] == "u1"
    assert action.payload["community_external_id"] == "g1"
    lines = action.payload["text"].splitlines()
    assert lines[0] == "关于你的建议“希望多搞几场秒杀，最好在晚上8点以后”：好的，下周安排"
    assert lines[1].startswith(f"你的专属页面：http://127.0.0.1:8000/m/{org_a.org.slug}/l/")


def test_a_reply_to_a_member_the_bot_cannot_reach_stays_on_their_page(org_a):
    from members.models import Member

    member = Member.objects.create(organization=org_a.org, display_name="无身份")
    idea = Suggestion.objects.create(organization=org_a.org, member=member, text="想法")
    reply = services.suggestion_reply(actor=org_a.actor(), suggestion=idea, text="收到")
    assert not reply.sent
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


def test_a_members_answers_and_ideas_are_in_their_data_export_and_erasure(org_a, poll, people):
    from members.hooks import privacy_sections

    member = people[0]
    _answer(poll, member, choice_ids(poll)[0])
    services.suggestion_create(actor=Actor.for_member(member), member=member, text="我的想法")
    sections = {s.key: s for found in privacy_sections(org=org_a.org, member=member) for s in found}
    assert sections["poll_responses"].queryset.count() == 1
    assert sections["suggestions"].text_fields == ("text",)
    assert sections["suggestions"].queryset.get().text == "我的想法"
