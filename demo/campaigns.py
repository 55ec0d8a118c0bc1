"""Demo campaigns for `manage.py seed_demo`: last week's flash sale (ended, with orders) and
this Friday's (published, announced in the calendar); a group buy running now with one open
team and one full one, and next week's (announced); yesterday's lottery, drawn with the public
value it named, with winners; a lottery open until Saturday evening whose draw is decided by
that night's 大乐透 result, named when it opened; and next week's check-in lottery."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns import group_buys, lottery, services
from campaigns.models import Campaign, LotteryDraw
from communities.models import Community
from members.models import Member, Membership


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
    people = list(
        dict.fromkeys(
            Membership.objects.for_org(org)
            .filter(community__in=groups, status="active")
            .order_by("pk")
            .values_list("member_id", flat=True)
        )
    )
    members = Member.objects.for_org(org).in_bulk(people)
    people = [members[pk] for pk in people]
    _seed_group_buys(org, actor, groups, people, friday)
    _seed_lotteries(org, actor, groups, people, friday)
    _lottery(org, actor, groups, now)


def _seed_group_buys(org, actor, groups, people, friday) -> None:
    now = timezone.now()
    running = group_buys.group_buy_create(
        actor=actor,
        name="益生菌两人拼团",
        product_name="益生菌固体饮料 30袋",
        price=Decimal("69"),
        original_price=Decimal("109"),
        stock=20,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=2),
        communities=groups,
        cost=Decimal("300"),
        team_size=2,
        team_hours=24,
    )
    running.status = "scheduled"
    running.save(update_fields=["status"])
    leaders = iter(people[12:])
    _team(actor, running, leaders)  # waits for a second member
    full = _team(actor, running, leaders)
    for member in leaders:
        try:
            group_buys.team_join(actor=actor, team=full, member=member)
            break
        except services.OrderRefused:
            continue
    upcoming = group_buys.group_buy_create(
        actor=actor,
        name="周六维生素D拼团",
        product_name="维生素D3 滴剂",
        price=Decimal("49"),
        original_price=Decimal("79"),
        stock=30,
        starts_at=friday + timedelta(days=1),
        ends_at=friday + timedelta(days=2),
        communities=groups,
        cost=Decimal("200"),
        team_size=3,
        team_hours=12,
    )
    services.campaign_publish(actor=actor, campaign=upcoming)


def _team(actor, campaign, candidates):
    for member in candidates:
        try:
            return group_buys.team_open(actor=actor, campaign=campaign, member=member)
        except services.OrderRefused:
            continue
    return None


def _seed_lotteries(org, actor, groups, people, friday) -> None:
    now = timezone.now()
    drawn = lottery.lottery_create(
        actor=actor,
        name="周年庆抽奖",
        product_name="周年庆礼品",
        prizes=[("品牌保温杯", 1), ("定制帆布袋", 3)],
        draw_at=now + timedelta(hours=2),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        public_source="福彩3D 开奖号码（当晚）",
        public_value_at=now + timedelta(minutes=90),
        communities=groups,
        cost=Decimal("200"),
    )
    drawn.status = "scheduled"
    drawn.save(update_fields=["status"])
    for member in people[:10]:
        try:
            lottery.lottery_enter(actor=actor, campaign=drawn, member=member)
        except services.OrderRefused:
            continue
    yesterday = now - timedelta(days=1)
    Campaign.objects.for_org(org).filter(pk=drawn.pk).update(
        starts_at=yesterday - timedelta(days=2), ends_at=yesterday
    )
    LotteryDraw.objects.for_org(org).filter(campaign=drawn).update(
        draw_at=yesterday + timedelta(minutes=20), public_value_at=yesterday + timedelta(minutes=10)
    )
    lottery.lottery_draw(
        actor=actor, campaign=Campaign.objects.for_org(org).get(pk=drawn.pk), public_value="527"
    )
    upcoming = lottery.lottery_create(
        actor=actor,
        name="下周签到抽奖",
        product_name="签到好礼",
        prizes=[("鱼油一瓶", 1), ("试用装", 5)],
        draw_at=friday + timedelta(days=8),
        starts_at=friday + timedelta(days=6),
        ends_at=friday + timedelta(days=7),
        public_source="体彩大乐透 下周开奖号码（前区 5 个 + 后区 2 个）",
        public_value_at=friday + timedelta(days=7, hours=2),
        communities=groups,
        cost=Decimal("150"),
        require_checkin=True,
    )
    services.campaign_publish(actor=actor, campaign=upcoming)


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
