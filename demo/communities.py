"""Demo groups, rules, staff, tiers and points for `manage.py seed_demo`."""

from datetime import time
from decimal import Decimal

from communities import content, services
from communities.models import Community, ContentPlan
from tenancy.models import User

HEALTH_GROUPS = [
    # name, kind, region, category, tags, template
    ("健康优选·全国综合1群", "general", "", "", ["主群"], "health_food"),
    ("健康优选·全国综合2群", "general", "", "", [], "health_food"),
    ("西安健康交流群", "regional", "西安", "", ["西北"], "health_food"),
    ("上海健康交流群", "regional", "上海", "", ["华东"], "health_food"),
    ("白藜芦醇交流群", "category", "", "白藜芦醇", [], "health_food"),
    ("深海鱼油交流群", "category", "", "深海鱼油", [], "health_food"),
    ("蔓越莓交流群", "category", "", "蔓越莓", [], "health_food"),
    ("健康优选VIP会员群", "vip", "", "", ["VIP"], "health_food"),
    ("核心管理群", "vip", "", "", ["管理"], None),
    ("广告交流群", "ads", "", "", [], None),
]
BABY_GROUPS = [
    ("贝贝宝妈交流1群", "general", "", "", [], "mother_baby"),
    ("贝贝宝妈交流2群", "general", "", "", [], "mother_baby"),
    ("杭州宝妈群", "regional", "杭州", "", ["华东"], "mother_baby"),
    ("辅食研究所", "category", "", "辅食", [], "mother_baby"),
    ("贝贝VIP妈妈群", "vip", "", "", ["VIP"], "mother_baby"),
]
TIERS = [
    {"name": "普通会员", "rank": 1, "benefits": "新人专属10元无门槛券"},
    {
        "name": "高级会员",
        "rank": 2,
        "min_paid_orders": 2,
        "min_spend": Decimal("200"),
        "benefits": "积分1.5倍，生日礼",
        "points_multiplier": Decimal("1.5"),
    },
    {
        "name": "VIP会员",
        "rank": 3,
        "min_paid_orders": 5,
        "min_spend": Decimal("1000"),
        "min_points": 500,
        "benefits": "免运费、优先发货、专属客服",
        "discount_percent": 5,
        "points_multiplier": Decimal("2"),
        "free_shipping": True,
        "hold_days": 30,
    },
    {"name": "核心管理员", "rank": 4, "manual_only": True, "benefits": "活动优先参与，更高佣金"},
]
REWARDS = [
    ("5元无门槛券", 100, "全场通用，满0元可用"),
    ("深海鱼油试用装", 300, "每人限兑1次"),
    ("VIP月卡", 1000, "一个月VIP会员权益"),
]


def seed(org, actor, *, kind: str) -> None:
    if Community.objects.for_org(org).exists():
        return
    groups = HEALTH_GROUPS if kind == "health" else BABY_GROUPS
    tiers = {spec["name"]: services.tier_save(actor=actor, **spec) for spec in TIERS}
    created = []
    for name, group_kind, region, category, tags, template in groups:
        community = services.community_create(
            actor=actor,
            name=name,
            kind=group_kind,
            platform="wechat",
            external_id=f"wx-{org.slug}-{len(created) + 1:03d}",
            # the group's invitation link (a made-up WeCom one): its QR poster holds it
            join_url=f"https://work.weixin.qq.com/gm/demo-{org.slug}-{len(created) + 1:03d}",
            capacity=500,
            region=region,
            category=category,
            tags=tags,
            parent=created[0] if group_kind == "vip" and created else None,
            required_tier=tiers["VIP会员"] if group_kind == "vip" else None,
        )
        if template:
            services.rules_apply_template(actor=actor, community=community, template=template)
        created.append(community)
    services.points_rules_update(actor=actor, checkin=2, share=5, invite=20)
    for name, cost, description in REWARDS:
        services.redemption_item_save(
            actor=actor, name=name, points_cost=cost, description=description
        )
    deputy = User.objects.filter(email="deputy@demo.qunyun.cn").first()
    if deputy and kind == "health":
        services.staff_assign(actor=actor, community=created[0], user=deputy, role="deputy")
        services.staff_assign(
            actor=actor, community=created[0], user=deputy, role="content_officer"
        )
    benefits = User.objects.filter(email="benefits@demo.qunyun.cn").first()
    if benefits and kind == "health":
        for community in created[:2]:
            services.staff_assign(
                actor=actor, community=community, user=benefits, role="benefits_officer"
            )
    officer = User.objects.filter(email="content@demo.qunyun.cn").first()
    if officer and kind == "health":
        for community in created[:2]:
            services.staff_assign(
                actor=actor, community=community, user=officer, role="content_officer"
            )
    sub_owner = User.objects.filter(email="subowner@demo.qunyun.cn").first()
    if sub_owner and kind == "health":
        # five groups against a limit of four: the staff directory shows the warning
        for community in created[1:6]:
            services.staff_assign(
                actor=actor, community=community, user=sub_owner, role="sub_owner"
            )


WEEKLY_PLAN = [
    (0, 20, "tips", "【周一干货】{community}：秋季养生，鱼油饭后吃吸收更好。"),
    (2, 20, "member_story", "【周三成员故事】请群友分享一下最近的健康小变化～"),
    (4, 19, "deal_preview", "【周五福利预告】周末秒杀：深海鱼油买二送一，记得定闹钟！"),
    (6, 21, "discussion", "【周日话题】大家周末都做了什么运动？"),
]


def seed_calendar(org, actor) -> None:
    """A weekly plan for the first two general groups (seed 002's content calendar)."""

    if ContentPlan.objects.for_org(org).exists():
        return
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk")[:2])
    if groups:
        content.plan_save(
            actor=actor,
            name="每周内容日历",
            communities=groups,
            slots=[
                {"weekday": d, "local_time": time(h, 0), "content_type": t, "template": text}
                for d, h, t, text in WEEKLY_PLAN
            ],
        )
