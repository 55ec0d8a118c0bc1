"""What the synthetic organization gets through the services, as an operator would set it up:
the organization and its team, the groups with their rules, staff and VIP tiers, the weekly
content plan (its next two weeks of posts), and a dozen campaigns. A few hundred calls."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from bench.lib import app
from bench.lib.plan import Scale

from .shape import (
    CITIES,
    COMPLETE,
    DEPUTY_GROUPS,
    KINDS,
    PASSWORD,
    PRODUCTS,
    TEAM,
    TIME_ZONE,
    email,
    group_sizes,
)

SLOTS = [  # the weekly plan: Mon tips, Wed member story, Fri deal preview, Sun topic
    (0, time(20, 0), "tips", "周一健康小贴士：每天一杯温水。"),
    (2, time(12, 0), "member_story", "会员故事：坚持打卡三十天的变化。"),
    (4, time(19, 30), "deal_preview", "周五福利预告：今晚八点秒杀鱼油。"),
    (6, time(21, 0), "discussion", "周日话题：你最喜欢的早餐是什么？"),
]
TIERS = [("银卡", 2, 200), ("金卡", 5, 800), ("钻石", 10, 2000)]


def create_team(slug: str, scale: Scale):
    """The organization, its people and groups. Returns (org, group ids, {role: [users]})."""
    owner = email(slug, "owner", 1)
    existing = app.User.objects.filter(email=owner).first()
    org = app.organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=owner,
        owner_password=None if existing else PASSWORD,
        time_zone=TIME_ZONE,
    )
    system = app.system_actor(org)
    users = {"owner": [app.User.objects.get(email=owner)], "manager": [], "deputy": []}
    with app.org_scope(org):
        for role, count in TEAM.items():
            for i in range(1, count + 1):
                if role == "owner" and i == 1:
                    continue
                address = email(slug, role, i)
                _invitation, token = app.invitation_create(
                    actor=system, email=address, role="staff" if role == "deputy" else role
                )
                user = app.User.objects.filter(email=address).first()
                app.invitation_accept(
                    token=token,
                    user=user,
                    full_name=f"{role} {i}",
                    password="" if user else PASSWORD,
                )
                users[role].append(app.User.objects.get(email=address))
        for user in (u for group in users.values() for u in group):
            if not user.check_password(PASSWORD):  # a user left over from a purged dataset
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
        communities = create_groups(system, scale)
        assign_staff(system, communities, users)
        for rank, (name, orders, spend) in enumerate(TIERS, start=1):
            app.tier_save(
                actor=system,
                name=name,
                rank=rank,
                min_paid_orders=orders,
                min_spend=spend,
                benefits=f"{name}会员专属价",
                discount_percent=5 * rank,
            )
    return org, [c.pk for c in communities], users


def create_groups(system, scale: Scale) -> list:
    sizes = group_sizes(scale)
    communities = []
    for i in range(scale.communities):
        kind = KINDS[i % len(KINDS)]
        community = app.community_create(
            actor=system,
            name=f"{CITIES[i % len(CITIES)]}健康交流{i + 1}群",
            kind=kind,
            platform="wechat",
            external_id=f"wx-syn-{i:04d}",
            capacity=min(100_000, max(500, int(sizes[i] * 1.3) + 50)),
            region=CITIES[i % len(CITIES)] if kind == "regional" else "",
            category=PRODUCTS[i % len(PRODUCTS)] if kind == "category" else "",
            tags=["VIP"] if kind == "vip" else [],
        )
        if i % 3 == 0:
            app.rules_apply_template(actor=system, community=community, template="health_food")
        communities.append(community)
    return communities


def assign_staff(system, communities: list, users: dict) -> None:
    """A manager as sub-owner of every group; each deputy in DEPUTY_GROUPS groups."""
    managers = users["manager"]
    for i, community in enumerate(communities):
        app.staff_assign(
            actor=system, community=community, user=managers[i % len(managers)], role="sub_owner"
        )
    for j, deputy in enumerate(users["deputy"]):
        for k in range(DEPUTY_GROUPS):
            community = communities[(j * DEPUTY_GROUPS + k) % len(communities)]
            app.staff_assign(actor=system, community=community, user=deputy, role="deputy")


def content_plan(org, community_ids: list[int]):
    """The weekly plan on every group; the service lays out its next two weeks of posts (the
    eight weeks already sent are SQL, see commerce.PAST_POSTS_SQL)."""
    with app.org_scope(org):
        communities = list(app.Community.objects.for_org(org).filter(pk__in=community_ids))
        return app.plan_save(
            actor=app.system_actor(org),
            name="每周内容",
            communities=communities,
            slots=[
                {"weekday": d, "local_time": t, "content_type": kind, "template": text}
                for d, t, kind, text in SLOTS
            ],
        )


def campaigns(org, community_ids: list[int], now: datetime) -> int:
    """A dozen campaigns: flash sales over the last months, one live, two ahead; two group
    buys, published; what the past ones sold shows in their stock left."""
    specs = [(-80 + 8 * i, "flash_sale") for i in range(9)] + [(2, "flash_sale"), (5, "flash_sale")]
    specs += [(-20, "group_buy"), (-1, "group_buy")]
    system = app.system_actor(org)
    with app.org_scope(org):
        groups = {c.pk: c for c in app.Community.objects.for_org(org).filter(pk__in=community_ids)}
        for i, (offset, kind) in enumerate(specs):
            starts = now + timedelta(days=offset, hours=-1 if offset == -1 else 0)
            stock = 200 + 50 * (i % 5)
            targets = sorted({community_ids[(i * 3 + k) % len(community_ids)] for k in range(5)})
            fields = {
                "actor": system,
                "name": f"{PRODUCTS[i % 5]}{'拼团' if kind == 'group_buy' else '秒杀'} 第{i + 1}期",
                "product_name": PRODUCTS[i % 5],
                "price": Decimal(39 + i),
                "original_price": Decimal(99 + i),
                "stock": stock,
                "starts_at": starts,
                "ends_at": starts + timedelta(days=2 if kind == "group_buy" else 1),
                "communities": [groups[pk] for pk in targets],
                "per_member_cap": 2,
            }
            if kind == "group_buy":
                campaign = app.group_buy_create(team_size=3, team_hours=24, **fields)
            else:
                campaign = app.flash_sale_create(**fields)
            if campaign.ends_at > now:  # with its announcements in the calendar
                app.campaign_publish(actor=system, campaign=campaign)
            left = stock if offset > 0 else max(0, stock - 40 * (i % 6) - 30)
            # the past ones as publishing left them (the service refuses a window that is over)
            app.Campaign.objects.for_org(org).filter(pk=campaign.pk).update(
                status="scheduled", stock_left=left
            )
    return len(specs)
