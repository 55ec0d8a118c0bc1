"""Demo member care for `manage.py seed_demo`: seed 002's after-sales routine as two follow-up
rules, and a few complaints in the main group at every stage (one overdue, one just in, one
being refunded, one closed last week)."""

from datetime import timedelta

from django.utils import timezone

from campaigns.models import Order
from care import followups, services
from care.models import Case, CaseEvent, FollowUpRule
from communities.models import Community
from members.models import Membership

RULES = [
    (
        "发货确认",
        "bought",
        0,
        "bot",
        "@{name} 你买的{items}已经安排发货了，订单号{order}，注意查收～",
    ),
    # Bots that report no delivery: ask three days after buying.
    ("收货回访", "bought", 72, "staff", "@{name} 你买的{items}用了吗？有没有什么问题？"),
]

CASES = [
    # (minutes ago opened, kind, subject, steps taken, resolution, with order)
    (3, "complaint", "这个产品质量太差了，胶囊都碎了", [], "", False),
    (40, "complaint", "说好的赠品没收到，我要投诉", [], "", False),
    (180, "refund", "收到的鱼油包装破损，想退款", ["responded", "acknowledged"], "", True),
    (
        7 * 24 * 60,
        "after_sales",
        "蔓越莓胶囊饭前吃还是饭后吃？",
        ["responded", "acknowledged", "resolved", "followed_up", "closed"],
        "explanation",
        False,
    ),
]


def seed(org, actor) -> None:
    if FollowUpRule.objects.for_org(org).exists() or Case.objects.for_org(org).exists():
        return
    for name, trigger, hours, channel, message in RULES:
        followups.rule_create(
            actor=actor,
            name=name,
            trigger=trigger,
            delay_hours=hours,
            channel=channel,
            message=message,
        )
    # Staff follow up last week's sale too, so the demo shows follow-ups to do (the bot's
    # rule starts now: no burst of old notices in the outbox).
    FollowUpRule.objects.for_org(org).filter(channel="staff").update(
        active_since=timezone.now() - timedelta(days=10)
    )
    followups.make_follow_ups(org)
    group = Community.objects.for_org(org).filter(kind="general").order_by("pk").first()
    if group is None:
        return
    people = list(
        Membership.objects.for_org(org)
        .filter(community=group, status="active")
        .select_related("member")
        .order_by("-pk")[: len(CASES)]
    )
    now = timezone.now()
    for (ago, kind, subject, steps, resolution, with_order), membership in zip(
        CASES, people, strict=False
    ):
        member = membership.member
        order = (
            Order.objects.for_org(org).filter(member=member, status="paid").first()
            if with_order
            else None
        )
        case = services.case_open(
            actor=actor, member=member, community=group, kind=kind, subject=subject, order=order
        )
        opened = now - timedelta(minutes=ago)
        Case.objects.for_org(org).filter(pk=case.pk).update(
            opened_at=opened,
            clock_started_at=opened,
            first_response_due_at=opened + timedelta(minutes=10),
            updated_at=opened,
        )
        CaseEvent.objects.for_org(org).filter(case=case).update(created_at=opened)
        for i, step in enumerate(steps, start=1):
            case = services.case_step(actor=actor, case=case, step=step, resolution=resolution)
            at = opened + timedelta(minutes=4 * i if i < 3 else 60 * i)
            Case.objects.for_org(org).filter(pk=case.pk).update(
                **{services.STEP_FIELDS[step]: at, "updated_at": at}
            )
            CaseEvent.objects.for_org(org).filter(case=case, step=step).update(created_at=at)
