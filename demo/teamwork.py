"""Demo team side for `manage.py seed_demo`: seed 002 §2.3's duties with a rhythm (the topic
officer's 3 interactions a week, the deputy greeting newcomers), goals from seed 004 (10+
groups, 500-800 loyal members) with one met and raised, and last month's awards confirmed."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from communities import content
from communities import services as community_services
from communities.models import Community, ContentType, ScheduledPost
from teamwork.models import AwardRound, Duty, DutyMeasure, DutyPeriod, GoalFigure
from teamwork.selectors.goals import Values
from teamwork.services import awards, duties, goals
from teamwork.weeks import today, week_of
from tenancy.actors import Actor
from tenancy.models import OrgMembership

DUTIES = [
    # title, role, measure, period, quota
    ("每周 3 次互动话题", "topic_officer", DutyMeasure.TOPICS, DutyPeriod.WEEK, 3),
    ("新人入群 2 小时内引导", "deputy", DutyMeasure.GREETINGS, DutyPeriod.WEEK, 100),
    ("每天巡群一次", "deputy", DutyMeasure.MANUAL, DutyPeriod.DAY, 1),
    ("每周 2 篇干货内容", "content_officer", DutyMeasure.POSTS, DutyPeriod.WEEK, 2),
    ("每周处理 3 个售后问题", "sub_owner", DutyMeasure.CASES, DutyPeriod.WEEK, 3),
    ("每周整理一次福利清单", "benefits_officer", DutyMeasure.MANUAL, DutyPeriod.WEEK, 1),
]
TOPICS = ["【互动话题】大家平时怎么补充维生素？", "【互动话题】晒晒你的早餐吧～"]


def _actor_for(org, email):
    membership = (
        OrgMembership.objects.for_org(org).filter(user__email=email).select_related("user").first()
    )
    return Actor.for_user(membership) if membership else None


def seed(org, actor) -> None:
    if Duty.objects.for_org(org).exists():
        return
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk"))
    owner = _actor_for(org, "owner@demo.qunyun.cn") or actor
    for title, role, measure, period, quota in DUTIES:
        duties.duty_create(
            actor=owner, title=title, role=role, measure=measure, period=period, quota=quota
        )
    officer = _actor_for(org, "content@demo.qunyun.cn")
    if officer is not None and len(groups) > 1:
        community_services.staff_assign(
            actor=actor, community=groups[1], user=officer.user, role="topic_officer"
        )
        _topics(org, officer, groups[1])
    deputy = _actor_for(org, "deputy@demo.qunyun.cn")
    if deputy is not None and groups:
        _rounds(org, owner, deputy, groups[0])
    _goals(org, owner, groups)
    month = awards.previous_month(today(org))
    if not AwardRound.objects.for_org(org).filter(month=month).exists():
        award_round = awards.round_open(org, month)
        if award_round is not None:
            first = {
                awards.slot_key(award, community_id): nominees[0].pk
                for (award, community_id), nominees in awards.slots(award_round).items()
            }
            if first:
                awards.round_confirm(actor=owner, award_round=award_round, choices=first)


def _topics(org, officer, community) -> None:
    """Two of the topic officer's interactions sent this week (a third is still to do)."""
    now = timezone.now()
    posts = [
        content.post_create(
            actor=officer,
            community=community,
            scheduled_at=now + timedelta(minutes=1),
            text=text,
            content_type=ContentType.DISCUSSION,
        )
        for text in TOPICS
    ]
    content.dispatch_due(org, now=now + timedelta(minutes=2))
    monday = week_of(today(org)).start
    for n, post in enumerate(posts):
        # Monday and Tuesday evening, or just now early in the week
        evening = datetime.combine(monday + timedelta(days=n), time(20, 0), org.tzinfo)
        sent = min(evening, now - timedelta(minutes=30 * (len(posts) - n)))
        ScheduledPost.objects.for_org(org).filter(pk=post.pk).update(
            scheduled_at=sent, sent_at=sent
        )


def _rounds(org, owner, deputy, community) -> None:
    """The deputy's daily round of the group, ticked by hand on the days so far but one."""
    week = week_of(today(org))
    for day in week.days:
        if day > today(org) or day == week.start + timedelta(days=1):
            continue
        duties.duty_tick(
            actor=owner,
            duty=Duty.objects.for_org(org).get(measure=DutyMeasure.MANUAL, role="deputy"),
            community=community,
            user=deputy.user,
            day=day,
            note="已巡群",
        )


def _goals(org, owner, groups) -> None:
    soon = today(org) + timedelta(days=90)
    goals.goal_create(actor=owner, figure=GoalFigure.GROUPS, target=12, due_on=soon)
    goals.goal_create(
        actor=owner,
        figure=GoalFigure.LOYAL,
        target=500,
        loyal_days=8,
        due_on=today(org) + timedelta(days=180),
    )
    goals.goal_create(actor=owner, figure=GoalFigure.REVENUE, target=Decimal("50000"), due_on=soon)
    if groups:
        activity = Values.where(org, groups[0]).value(GoalFigure.ACTIVITY, groups[0].pk)
        activity = activity or Decimal("0")
        goals.goal_create(
            actor=owner,
            figure=GoalFigure.ACTIVITY,
            target=min(Decimal("100"), max(Decimal("40"), (activity // 10 + 1) * 10)),
            community=groups[0],
            due_on=today(org) + timedelta(days=60),
        )
    # a first step already met, raised to the next one (000 三: 依次提高)
    members = Values.where(org).value(GoalFigure.MEMBERS) or Decimal("0")
    if members >= 20:
        first = goals.goal_create(
            actor=owner,
            figure=GoalFigure.MEMBERS,
            target=(members // 20) * 10,
            due_on=today(org) + timedelta(days=30),
        )
        goals.goal_raise(actor=owner, goal=first, target=(members // 10 + 5) * 10, due_on=soon)
