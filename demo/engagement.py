"""Demo polls and suggestions for `manage.py seed_demo` (seeds 001 §6, 003: 投票, 意见箱): an
open poll in the main group, answered on the members' page and by replies in the group (those
go in through the events, as a bot sends them), a closed survey, and ideas in the box, one of
them answered."""

from datetime import timedelta

from django.utils import timezone

from communities.models import Community
from engagement import services
from engagement.models import Poll, Question
from ingestion.pipeline import ingest_events
from members.models import Membership
from tenancy.actors import Actor

IDEAS = [
    "希望多搞几场晚上8点以后的秒杀，白天上班没空抢",
    "可以多分享一些适合全家的好物吗？",
    "群里的养生小知识很实用，希望每周都有",
]


def seed(org, actor) -> None:
    if Poll.objects.for_org(org).exists():
        return
    group = Community.objects.for_org(org).filter(kind="general").order_by("pk").first()
    if group is None:
        return
    people = list(
        Membership.objects.for_org(org)
        .filter(community=group, status="active")
        .select_related("member", "identity")
        .order_by("pk")[:8]
    )
    now = timezone.now()
    poll = services.poll_create(
        actor=actor,
        kind="poll",
        title="下周你最想参加哪种活动？",
        communities=[group],
        closes_at=now + timedelta(days=2),
        questions=[{"kind": "single", "choices": ["晚上8点秒杀", "两人拼团", "晒单抽奖"]}],
    )
    question = Question.objects.for_org(org).get(poll=poll)
    choices = list(question.choices.all())
    for n, membership in enumerate(people[:3]):
        services.poll_answer(
            actor=Actor.for_member(membership.member),
            poll=poll,
            member=membership.member,
            answers={question.pk: [choices[n % 2].pk]},
        )
    ingest_events(
        actor=actor,
        raw_events=[
            {
                "id": f"demo-poll-{poll.pk}-{m.pk}",
                "type": "message.posted",
                "occurred_at": (now - timedelta(minutes=5 - n)).isoformat(),
                "platform": m.identity.platform,
                "community": group.external_id,
                "user": m.identity.external_user_id,
                "text": str(1 + n % 3),
            }
            for n, m in enumerate(people[3:6])
            if group.external_id
        ],
    )
    survey = services.poll_create(
        actor=actor,
        kind="survey",
        title="会员满意度小调查",
        communities=[group],
        closes_at=now + timedelta(minutes=10),
        questions=[
            {
                "text": "你对群里的活动满意吗？",
                "kind": "single",
                "choices": ["满意", "一般", "不满意"],
            },
            {"text": "还想要什么活动？", "kind": "text"},
        ],
    )
    rating, wish = Question.objects.for_org(org).filter(poll=survey).order_by("position")
    for membership in people[:2]:
        services.poll_answer(
            actor=Actor.for_member(membership.member),
            poll=survey,
            member=membership.member,
            answers={rating.pk: [rating.choices.first().pk], wish.pk: "多一些亲子活动"},
        )
    services.poll_close(actor=actor, poll=survey)  # closed early: its results are posted
    for text, membership in zip(IDEAS, people[5:], strict=False):
        services.suggestion_create(
            actor=Actor.for_member(membership.member), member=membership.member, text=text
        )
    if people[5:]:
        answered = services.suggestion_create(
            actor=Actor.for_member(people[5].member),
            member=people[5].member,
            text="秒杀的库存能不能多一点？",
        )
        services.suggestion_reply(
            actor=actor, suggestion=answered, text="收到！下周起每场多备 20 份。"
        )
