"""Demo members for `manage.py seed_demo`: a month of group life, fed through the same
ingestion path the bots use, so every number on the pages is real."""

import random
from datetime import timedelta

from django.utils import timezone

from communities.models import Community
from ingestion.pipeline import ingest_events
from members import jobs
from members.models import Member

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "小红",
    "丽丽",
    "静",
    "敏",
    "晓燕",
    "建国",
    "伟",
    "芳",
    "娜",
    "秀英",
    "强",
    "磊",
    "洋",
    "艳",
    "杰",
]
CITIES = ["西安", "上海", "北京", "杭州", "成都", "广州"]
PRODUCTS = ["白藜芦醇", "海豹油", "蔓越莓", "深海鱼油", "维生素E"]
CHATTER = [
    "大家好",
    "今天的分享很有用，谢谢群主",
    "请问鱼油饭前吃还是饭后吃？",
    "打卡",
    "收到货了，包装很好",
    "已下单",
]


# What the bots report as bought, by price: follow-ups name the product, not the order id.
BOUGHT = {
    "jiankang": {
        39: "蔓越莓胶囊",
        59: "深海鱼油 60粒",
        99: "白藜芦醇胶囊",
        129: "益生菌固体饮料",
        199: "辅酶Q10",
    },
    "beibei": {
        39: "婴儿湿巾 10包",
        59: "宝宝米粉",
        99: "婴儿润肤乳",
        129: "儿童益生菌",
        199: "一段奶粉",
    },
}


def seed(org, actor, *, members=60, days=30) -> None:
    if Member.objects.for_org(org).exists():
        return
    rng = random.Random(org.slug)  # noqa: S311 - demo data
    groups = list(Community.objects.for_org(org).exclude(kind__in=["ads", "vip"]).order_by("pk"))
    if not groups:
        return
    start = timezone.now() - timedelta(days=days)
    events, n = [], 0

    def add(event_type, at, user, group, **extra):
        nonlocal n
        n += 1
        events.append(
            {
                "id": f"demo-{org.slug}-{n}",
                "type": event_type,
                "occurred_at": at.isoformat(),
                "platform": group.platform,
                "community": group.external_id,
                "user": user,
                **extra,
            }
        )

    for i in range(members):
        user = f"wxid_demo_{i:03d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        card = f"{rng.choice(CITIES)}-{name}-{rng.choice(PRODUCTS)}"
        group = groups[i % len(groups)]
        joined = start + timedelta(hours=rng.randint(0, 24 * 10))
        invited_by = (
            f"wxid_demo_{rng.randint(0, i - 1):03d}" if i > 5 and rng.random() < 0.3 else None
        )
        add(
            "member.joined",
            joined,
            user,
            group,
            display_name=name,
            name_card=card,
            invited_by=invited_by,
        )
        silent = rng.random() < 0.2  # some drift away: the dormant scan finds them
        last_day = 4 if silent else days
        for day in range(last_day):
            at = joined + timedelta(days=day, hours=rng.randint(8, 22), minutes=rng.randint(0, 59))
            if at > timezone.now():
                break
            if rng.random() < 0.5:
                add("member.checked_in", at, user, group)
            if rng.random() < 0.6:
                text = rng.choice(CHATTER)
                add(
                    "message.posted",
                    at + timedelta(minutes=3),
                    user,
                    group,
                    kind="text",
                    length=len(text),
                    text=text,
                )
            if rng.random() < 0.05:
                amount = rng.choice([39, 59, 99, 129, 199])
                product = BOUGHT.get(org.slug, BOUGHT["jiankang"])[amount]
                add(
                    "order.placed",
                    at + timedelta(minutes=9),
                    user,
                    group,
                    order_id=f"{org.slug}-{n}",
                    amount=str(amount),
                    items=[{"name": product, "quantity": 1, "price": str(amount)}],
                )
            if rng.random() < 0.03:
                add(
                    "content.shared",
                    at + timedelta(minutes=12),
                    user,
                    group,
                    url="https://example.com/share",
                )
        if rng.random() < 0.05:
            add(
                "message.posted",
                joined + timedelta(days=2),
                user,
                group,
                kind="link",
                length=30,
                has_link=True,
                links=["http://spam.example/cheap"],
                text="加微信领福利",
            )
        if rng.random() < 0.08:
            add(
                "member.left",
                joined + timedelta(days=rng.randint(5, 20)),
                user,
                group,
                reason=rng.choice(["content_not_useful", "too_many_ads", "no_benefits", "other"]),
            )
    events.sort(key=lambda e: e["occurred_at"])
    for chunk in range(0, len(events), 1000):
        ingest_events(actor=actor, raw_events=events[chunk : chunk + 1000])
    # a few newcomers still waiting for a hello
    now = timezone.now()
    ingest_events(
        actor=actor,
        raw_events=[
            {
                "id": f"demo-{org.slug}-new-{i}",
                "type": "member.joined",
                "occurred_at": (now - timedelta(hours=i + 1)).isoformat(),
                "platform": groups[0].platform,
                "community": groups[0].external_id,
                "user": f"wxid_newcomer_{i}",
                "display_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            }
            for i in range(4)
        ],
    )
    jobs.mark_dormant(org)
    jobs.send_reminders(org, rng=rng)
    jobs.credit_invites(org)
    jobs.evaluate_tiers(org)
