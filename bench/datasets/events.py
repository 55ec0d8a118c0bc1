"""The events the ingestion benchmark posts to `POST /api/v1/events/`, generated in Python
(not SQL: they go through the API, which validates them).

n events in time order: 70% messages (a few with links or ad words, and short bursts, so
warnings and removals happen), plus joins, check-ins, shares, orders, leaves and invites, from
about 5,000 people in 20 groups.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

GROUPS = 20  # distinct groups in the events
USERS = 5000
MIX = [  # (type, share of events)
    ("message.posted", 70),
    ("member.joined", 10),
    ("member.checked_in", 8),
    ("content.shared", 5),
    ("order.placed", 4),
    ("member.left", 2),
    ("member.invited", 1),
]
CST = timezone(timedelta(hours=8))
CITIES = ["西安", "上海", "北京", "杭州", "成都", "广州", "武汉", "南京"]
PRODUCTS = ["白藜芦醇", "深海鱼油", "蔓越莓", "益生菌", "钙片"]
CHAT = [
    "大家好",
    "今天的鱼油收到了，包装很好",
    "请问白藜芦醇一天吃几粒？",
    "早上好，今天也要元气满满",
    "这个活动什么时候结束？",
    "已下单，期待发货",
    "营养师的课程很有用，谢谢分享",
    "有没有人一起拼单",
    "蔓越莓适合孕妇吃吗",
    "收到，谢谢群主",
    "1",
]
ADS = ["加微信领取优惠", "代购正品，价格美丽", "在家兼职日赚三百"]


def group_id(i: int) -> str:
    return f"wx-bench-{i:03d}"


def user_id(i: int) -> str:
    return f"wxid_bench_{i:05d}"


def generate_events(n: int, seed: int = 20261121) -> list[dict]:
    """n events in time order with the MIX above: ~USERS people across GROUPS groups, a few
    links and ad keywords (warnings, removals), the odd burst of messages (flood). About two
    seconds apart, ending about now (daily caps and check-in streaks look at recent days)."""
    rng = random.Random(seed)
    people = []
    for i in range(USERS):
        name = f"用户{i}"
        good = rng.random() < 0.92
        card = f"{rng.choice(CITIES)}-{name}-{rng.choice(PRODUCTS)}" if good else name
        home = [rng.randrange(GROUPS)]
        if rng.random() < 0.25:
            home.append(rng.randrange(GROUPS))
        people.append((user_id(i), name, card, home))
    activity = [rng.paretovariate(1.2) for _ in range(USERS)]
    who = rng.choices(range(USERS), weights=activity, k=n)
    types = rng.choices([t for t, _w in MIX], weights=[w for _t, w in MIX], k=n)
    at = datetime.now(CST).replace(microsecond=0) - timedelta(seconds=2 * n)
    burst = None  # [person index, group, messages left]
    events = []
    for i in range(n):
        at += timedelta(milliseconds=rng.randint(500, 3500))
        kind = types[i]
        p = who[i]
        if kind == "message.posted" and burst:
            p, group, burst[2] = burst[0], burst[1], burst[2] - 1
            if not burst[2]:
                burst = None
        else:
            group = rng.choice(people[p][3])
        uid, name, card, _home = people[p]
        event = {
            "id": f"evt-{i:07d}",
            "type": kind,
            "occurred_at": at.isoformat(),
            "platform": "wechat",
            "community": group_id(group),
            "user": uid,
            "display_name": name,
        }
        roll = rng.random()
        if kind == "message.posted":
            if roll < 0.012:
                url = f"https://shop{rng.randrange(50)}.example.net/p/{rng.randrange(10**6)}"
                event.update(kind="link", has_link=True, links=[url], text=f"看看这个 {url}")
            elif roll < 0.017:
                event.update(kind="text", text=rng.choice(ADS))
            elif roll < 0.25:
                event.update(kind="image", length=0)
            else:
                event.update(kind="text", text=rng.choice(CHAT))
            if "text" in event:
                event["length"] = len(event["text"])
            if rng.random() < 0.10:
                event["name_card"] = card
            if burst is None and rng.random() < 0.004:
                burst = [p, group, 6]
        elif kind == "member.joined":
            event["name_card"] = card
            if roll < 0.2:
                event["invited_by"] = user_id(rng.randrange(USERS))
        elif kind == "content.shared":
            event["url"] = f"https://mp.example.com/s/{rng.randrange(10**6)}"
        elif kind == "order.placed":
            items = [
                {
                    "name": rng.choice(PRODUCTS),
                    "sku": f"SKU-{rng.randrange(100)}",
                    "quantity": rng.randint(1, 3),
                    "price": f"{rng.randint(29, 399)}.{rng.randrange(100):02d}",
                }
                for _ in range(rng.randint(1, 3))
            ]
            total = sum(int(it["quantity"]) * float(it["price"]) for it in items)
            event.update(order_id=f"ord-{i:07d}", amount=f"{total:.2f}", items=items)
        elif kind == "member.left":
            event["reason"] = rng.choice(
                ["content_not_useful", "too_many_ads", "no_benefits", "other", ""]
            )
        elif kind == "member.invited":
            event["invitee"] = user_id(rng.randrange(USERS))
        events.append(event)
    return events


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
