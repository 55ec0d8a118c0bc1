"""What the synthetic organization looks like: its time zone, team, kinds of groups, how far
back its events go, and the sizes of its groups."""

from __future__ import annotations

import uuid

from bench.lib.plan import Scale

TIME_ZONE = "Asia/Shanghai"
COMPLETE = "Synthetic benchmark organization"  # the org's name once everything is there
PASSWORD = "Qy!load-test-7391"  # every bench login; the bench database only
EVENT_DAYS = 90
JOIN_DAYS = 150
DORMANT_DAYS = 14  # CommunityRules.dormant_after_days (the default of every group here)
BATCH = uuid.uuid5(uuid.NAMESPACE_URL, "qunyun-bench-synthetic")
TEAM = {"owner": 2, "manager": 10, "deputy": 8}  # deputies: org role staff + a deputy role
DEPUTY_GROUPS = 3
CHURN = ["content_not_useful", "too_many_ads", "no_benefits", "other", ""]
KINDS = ["general", "regional", "category", "general", "vip", "category", "general", "ads"]
CITIES = ["西安", "上海", "北京", "杭州", "成都", "广州", "武汉", "南京"]
PRODUCTS = ["白藜芦醇", "深海鱼油", "蔓越莓", "益生菌", "钙片"]


def slug_for(scale: Scale) -> str:
    return f"syn-{scale.communities}-{scale.members}-{scale.events}-{scale.orders}"


def email(slug: str, role: str, i: int) -> str:
    return f"{role}{i}@{slug}.bench.example.com"


def group_sizes(scale: Scale) -> list[float]:
    """Expected memberships per group: the first pick is skewed (u^1.6) to the first groups,
    a quarter of the members also join one other group, uniformly."""
    c, exponent = scale.communities, 1.6
    return [
        scale.members * (((k + 1) / c) ** (1 / exponent) - (k / c) ** (1 / exponent))
        + 0.25 * scale.members / c
        for k in range(c)
    ]
