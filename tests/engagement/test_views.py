"""The dashboard's poll pages and suggestion box, and the member's poll and idea pages."""

from django.urls import reverse
from django.utils import timezone

from engagement.models import Poll, Response, Suggestion
from integrations.models import Action
from tests.portal.conftest import signed_in

from .conftest import choice_ids, create_poll, first_question


def _url(org, name, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _member_url(org, name, **kwargs):
    return reverse(name, kwargs={"org": org.slug, **kwargs})


def _closes(hours=24):
    return (
        (timezone.now() + timezone.timedelta(hours=hours))
        .astimezone(timezone.get_fixed_timezone(480))
        .strftime("%Y-%m-%dT%H:%M")
    )


def test_the_deputy_posts_a_poll_in_their_group_from_the_form(org_a, group, other_group):
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url(org_a.org, "poll-create")).content.decode()
    assert group.name in page and other_group.name not in page  # only their own groups
    response = client.post(
        _url(org_a.org, "poll-create"),
        {
            "kind": "poll",
            "title": "周末活动选哪个？",
            "options": "秒杀\n拼团\n\n抽奖\n",
            "group_replies": "on",
            "closes_at": _closes(),
            "communities": [group.pk],
        },
    )
    poll = Poll.objects.for_org(org_a.org).get()
    assert response.status_code == 302
    assert response["Location"] == _url(org_a.org, "poll", pk=poll.pk)
    assert [c.text for c in first_question(poll).choices.all()] == ["秒杀", "拼团", "抽奖"]
    assert Action.objects.for_org(org_a.org).filter(kind="group.announce").count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert "周末活动选哪个？" in detail and 'data-testid="results"' in detail


def test_a_bad_form_shows_the_services_reasons_on_its_fields(org_a, group):
    client = org_a.client_for(org_a.owner)
    response = client.post(
        _url(org_a.org, "poll-create"),
        {
            "kind": "survey",
            "title": "满意度",
            "q1_text": "满意吗？",
            "q1_kind": "single",
            "q1_options": "只有一个",
            "closes_at": _closes(),
            "communities": [group.pk],
        },
    )
    assert response.status_code == 400
    assert "请给出 2 到 10 个选项，每行一个。" in response.content.decode()
    assert not Poll.objects.for_org(org_a.org).exists()


def test_a_survey_from_the_form(org_a, group):
    client = org_a.client_for(org_a.owner)
    client.post(
        _url(org_a.org, "poll-create"),
        {
            "kind": "survey",
            "title": "会员满意度调查",
            "options": "ignored\nfor a survey",
            "q1_text": "满意吗？",
            "q1_kind": "single",
            "q1_options": "满意\n不满意",
            "q3_text": "还有什么建议？",
            "q3_kind": "text",
            "closes_at": _closes(),
            "communities": [group.pk],
        },
    )
    survey = Poll.objects.for_org(org_a.org).get()
    assert survey.kind == "survey"
    assert [(q.text, q.kind) for q in survey.questions.all()] == [
        ("满意吗？", "single"),
        ("还有什么建议？", "text"),
    ]


def test_the_results_refresh_as_a_partial_and_close_by_hand(org_a, poll, people):
    from engagement import services
    from tenancy.actors import Actor

    client = org_a.client_for(org_a.deputy)
    url = _url(org_a.org, "poll", pk=poll.pk)
    services.poll_answer(
        actor=Actor.for_member(people[0]),
        poll=poll,
        member=people[0],
        answers={first_question(poll).pk: [choice_ids(poll)[1]]},
    )
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'hx-trigger="every 3s"' in partial
    assert "1 位成员已作答" in partial
    response = client.post(_url(org_a.org, "poll-close", pk=poll.pk))
    assert response.status_code == 302
    poll.refresh_from_db()
    assert poll.status == "closed"
    assert 'hx-trigger="every 3s"' not in client.get(url).content.decode()  # nothing to refresh
    analyst = org_a.client_for(org_a.analyst)
    assert analyst.get(url).status_code == 200
    assert analyst.post(_url(org_a.org, "poll-close", pk=poll.pk)).status_code == 403


def test_staff_see_the_polls_of_their_groups_only(org_a, group, other_group):
    mine = create_poll(org_a.actor(), [group], title="本群的")
    theirs = create_poll(org_a.actor(), [other_group], title="别的群的")
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url(org_a.org, "polls")).content.decode()
    assert "本群的" in page and "别的群的" not in page
    assert client.get(_url(org_a.org, "poll", pk=mine.pk)).status_code == 200
    assert client.get(_url(org_a.org, "poll", pk=theirs.pk)).status_code == 404
    assert client.get(_url(org_a.org, "suggestions")).status_code == 403  # org-wide box


def test_the_suggestion_box_lists_ideas_and_staff_reply(org_a, group, people):
    idea = Suggestion.objects.create(
        organization=org_a.org, member=people[0], community=group, text="希望晚上8点后有秒杀"
    )
    client = org_a.client_for(org_a.manager)
    page = client.get(_url(org_a.org, "suggestions")).content.decode()
    assert "希望晚上8点后有秒杀" in page and "待回复（1）" in page
    reply_url = _url(org_a.org, "suggestion-reply", pk=idea.pk)
    assert client.post(reply_url, {"text": " "}).status_code == 302
    assert not idea.replies.exists()
    client.post(reply_url, {"text": "好的，下周安排"})
    assert idea.replies.get().text == "好的，下周安排"
    replied = client.get(_url(org_a.org, "suggestions") + "?show=replied").content.decode()
    assert "好的，下周安排" in replied
    assert org_a.client_for(org_a.analyst).post(reply_url, {"text": "x"}).status_code == 403


# --- the member's pages ------------------------------------------------------------------------


def test_a_member_votes_on_their_page_and_sees_the_results(org_a, poll, people):
    client = signed_in(people[0])
    url = _member_url(org_a.org, "member-poll", pk=poll.pk)
    page = client.get(url).content.decode()
    assert 'data-testid="poll-form"' in page and 'data-testid="member-results"' in page
    assert "目前结果" not in page  # results only after answering
    _a, second, _c = choice_ids(poll)
    answer = _member_url(org_a.org, "member-poll-answer", pk=poll.pk)
    response = client.post(answer, {f"q{first_question(poll).pk}": second})
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "谢谢！你的回答已记录。" in page and "你已作答，谢谢！" in page
    assert "目前结果" in page and 'hx-trigger="every 5s"' in page
    again = client.post(answer, {f"q{first_question(poll).pk}": _a}, follow=True)
    assert "你已经回答过了。" in again.content.decode()
    assert Response.objects.for_org(org_a.org).get().answers.get().choice_id == second
    results = client.get(_member_url(org_a.org, "member-poll-results", pk=poll.pk))
    assert "<html" not in results.content.decode() and "1 人作答" in results.content.decode()


def test_a_visitor_without_a_session_is_told_how_to_get_their_link(org_a, poll):
    from django.test import Client

    page = Client().get(_member_url(org_a.org, "member-poll", pk=poll.pk)).content.decode()
    assert 'data-testid="signin-hint"' in page and "<strong>投票</strong>" in page
    assert "桂圆" in page and 'data-testid="poll-form"' not in page
    answer = _member_url(org_a.org, "member-poll-answer", pk=poll.pk)
    assert Client().post(answer, {}).status_code == 404


def test_the_member_polls_page_lists_their_groups_polls(org_a, poll, people, other_group):
    create_poll(org_a.actor(), [other_group], title="别的群的投票")
    page = signed_in(people[0]).get(_member_url(org_a.org, "member-polls")).content.decode()
    assert "下次团购选哪个？" in page and "别的群的投票" not in page


def test_a_member_leaves_an_idea_and_reads_the_reply(org_a, group, people):
    from engagement import services

    client = signed_in(people[0])
    url = _member_url(org_a.org, "member-ideas")
    assert client.post(url, {"text": ""}).status_code == 200
    response = client.post(url, {"text": "想要更多母婴用品"})
    assert response.status_code == 302
    idea = Suggestion.objects.for_org(org_a.org).get()
    services.suggestion_reply(actor=org_a.actor(), suggestion=idea, text="已记下，下月上新")
    page = client.get(url).content.decode()
    assert "想要更多母婴用品" in page and "已记下，下月上新" in page
    other = signed_in(people[1]).get(url).content.decode()
    assert "想要更多母婴用品" not in other


def test_ideas_are_rate_limited(org_a, group, people):
    client = signed_in(people[0])
    url = _member_url(org_a.org, "member-ideas")
    for n in range(5):
        assert client.post(url, {"text": f"想法{n}"}).status_code == 302
    refused = client.post(url, {"text": "第六个"})
    assert "一下子提了很多建议" in refused.content.decode()
    assert Suggestion.objects.for_org(org_a.org).count() == 5


def test_a_visitor_sees_how_to_get_a_link_on_the_lists_and_cannot_post_an_idea(org_a):
    from django.test import Client

    visitor = Client()
    for name, word in (("member-polls", "投票"), ("member-ideas", "建议")):
        page = visitor.get(_member_url(org_a.org, name)).content.decode()
        assert f"<strong>{word}</strong>" in page, name
    assert visitor.post(_member_url(org_a.org, "member-ideas"), {"text": "x"}).status_code == 404
    assert not Suggestion.objects.for_org(org_a.org).exists()
