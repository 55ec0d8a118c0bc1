"""Demo campaigns for `manage.py seed_demo`: last week's flash sale (ended, with orders), this
Friday's (published, announced in the calendar) and a lottery open until Saturday evening whose
draw is decided by that night's 大乐透 result, named when it opened."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns import lottery, services
from campaigns.models import Campaign
from communities.models import Community
from members.models import Membership


def seed(org, actor) -> None:
    if Campaign.objects.for_org(org).exists():
        return
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk")[:2])
    if not groups:
        return
    now = timezone.now()
    last = services.flash_sale_create(
        actor=actor,
        name="上周五晚8点秒杀",
        product_name="深海鱼油 60粒",
        price=Decimal("59"),
        original_price=Decimal("129"),
        stock=10,
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(minutes=30),
        communities=groups,
        cost=Decimal("700"),
    )
    last.status = "scheduled"
    last.save(update_fields=["status"])
    buyers = (
        Membership.objects.for_org(org)
        .filter(community__in=groups, status="active")
        .select_related("member")[:12]
    )
    for membership in buyers:
        try:
            order, _created = services.flash_sale_order(
                actor=actor,
                campaign=last,
                member=membership.member,
                quantity=1,
                idempotency_key=f"demo-{membership.pk}",
            )
        except services.OrderRefused:
            continue
        services.order_pay(actor=actor, order=order)
    Campaign.objects.for_org(org).filter(pk=last.pk).update(
        starts_at=now - timedelta(days=7),
        ends_at=now - timedelta(days=7) + timedelta(hours=1),
        sold_out_at=now - timedelta(days=7) + timedelta(minutes=4),
    )
    friday = (now + timedelta(days=(4 - now.weekday()) % 7 or 7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    upcoming = services.flash_sale_create(
        actor=actor,
        name="周五晚8点秒杀",
        product_name="白藜芦醇胶囊",
        price=Decimal("99"),
        original_price=Decimal("199"),
        stock=10,
        starts_at=friday,
        ends_at=friday + timedelta(hours=1),
        communities=groups,
        cost=Decimal("1000"),
    )
    services.campaign_publish(actor=actor, campaign=upcoming)
    _lottery(org, actor, groups, now)


def _lottery(org, actor, groups, now) -> None:
    """Entries until Saturday 20:00 (local time); the public value is that evening's 大乐透
    result (drawn 21:25, published about 21:30), and the draw comes after it."""
    local = now.astimezone(org.tzinfo)
    saturday = (local + timedelta(days=(5 - local.weekday()) % 7 or 7)).replace(
        hour=20, minute=0, second=0, microsecond=0
    )
    campaign = lottery.lottery_create(
        actor=actor,
        name="周末会员抽奖",
        product_name="抽奖",
        starts_at=now,
        ends_at=saturday,
        public_source=f"体彩大乐透 {saturday:%Y-%m-%d} 开奖号码（前区 5 个 + 后区 2 个）",
        public_value_at=saturday + timedelta(minutes=90),
        draw_at=saturday + timedelta(minutes=100),
        communities=groups,
        prizes=[("一等奖 深海鱼油 60粒", 1), ("二等奖 试用装", 3), ("参与奖 5元券", 30)],
        cost=Decimal("300"),
    )
    services.campaign_publish(actor=actor, campaign=campaign)
    entrants = (
        Membership.objects.for_org(org)
        .filter(community__in=groups, status="active")
        .select_related("member")[:20]
    )
    for membership in entrants:
        try:
            lottery.lottery_enter(actor=actor, campaign=campaign, member=membership.member)
        except services.OrderRefused:
            continue
