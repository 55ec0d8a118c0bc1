"""A synthetic organization at a chosen scale, for the benchmarks that need a realistic tenant
(the dashboard under load, `make bench`). Generated with set-based SQL, never ORM loops.

    uv run python bench/synthetic.py --scale small      # 20 groups, 10,000 members, 500,000 events
    uv run python bench/synthetic.py --scale default    # 200 groups, 100,000 members, 10,000,000
    uv run python bench/synthetic.py --scale small --fresh

What it builds, in one organization (Asia/Shanghai) of the bench database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/qunyun_bench, created and migrated if missing):

- the team, through the services: 2 owners, 10 managers and 8 staff with deputy roles in 3
  groups each, all able to log in (`PASSWORD`); the groups (`community_create`, a third with
  the health_food rules), a sub-owner for every group, three VIP tiers;
- members, each with one identity and one membership (a quarter with a second one in another
  group), joined over the last 150 days, some gone since (left with a reason, or removed),
  with their history rows (`joined`, `left`/`removed`, `warned`, `dormant`);
- raw events over the last 90 local days, in time order, day by day: 90% `message.posted`, 7%
  check-ins, 3% shares; about a third of the members never speak and the rest are skewed, so
  a minority writes most messages; the memberships' `last_active_at` and `message_count` follow,
  and members silent for 14 days are dormant, as the scan would have left them;
- orders over the same 90 days (repeat buyers: skewed to a few members; 62% paid, 25% placed,
  the rest cancelled, refunded or expired), each in the group its buyer was in; tiers follow;
- a weekly content plan on every group (8 weeks sent, 2 weeks ahead), a dozen campaigns, care
  cases (about 1% of memberships), warnings, an audit log of past actions;
- then `metrics.rollups.rebuild(org)` in the organization's scope, and VACUUM ANALYZE.

The organization's slug encodes the scale; a later run with the same scale reuses it unless
`--fresh`. Days are relative to the day of generation: a dataset reused days later has fewer
events in its recent windows. Prints the phases' times and the rows; with `--json-out`, writes
them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import ingest_events as server_tools  # noqa: E402 - environment and gunicorn helpers

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qunyun_bench"
TIME_ZONE = "Asia/Shanghai"
COMPLETE = "Synthetic benchmark organization"
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


@dataclass(frozen=True)
class Scale:
    name: str
    communities: int
    members: int
    events: int
    orders: int
    dormant_memberships: int  # for bench/dormant_scan.py


SCALES = {
    "tiny": Scale("tiny", 5, 1_000, 20_000, 2_000, 10_000),  # a smoke test of the suite
    "small": Scale("small", 20, 10_000, 500_000, 20_000, 100_000),
    "default": Scale("default", 200, 100_000, 10_000_000, 200_000, 1_000_000),  # issue #9
}


# --- environment --------------------------------------------------------------------------------


def configure_environment() -> str:
    """The bench database, settings for a bench process (DEBUG off, TESTING's fast password
    hashing, no SSL redirect), no mail sent."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    return server_tools.configure_environment()


def setup_django(migrate: bool = True) -> str:
    import warnings

    url = configure_environment()
    server_tools.ensure_database(url)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"This benchmark needs PostgreSQL, not {connection.vendor}.")
    if migrate:
        call_command("migrate", verbosity=0)
    return url


def connect(url: str):
    """A psycopg connection in system scope for row-level security (a no-op for a superuser)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    conn = psycopg.connect(urlunsplit(urlsplit(url)._replace(scheme="postgresql")), autocommit=True)
    conn.execute("SELECT set_config('app.org_id', '0', false)")
    return conn


def is_superuser(conn) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


class Phases:
    """Wall time of each phase, printed as it ends."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn, *args, **kwargs):
        print(f"[{name}] ...", flush=True)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        print(f"[{name}] {self.seconds[name]:.1f} s", flush=True)
        return result


# --- the dataset ---------------------------------------------------------------------------------


def slug_for(scale: Scale) -> str:
    return f"syn-{scale.communities}-{scale.members}-{scale.events}-{scale.orders}"


def email(slug: str, role: str, i: int) -> str:
    return f"{role}{i}@{slug}.bench.example.com"


@dataclass
class Dataset:
    org_id: int
    slug: str
    scale: str
    reused: bool
    communities: list[int]  # by size, largest first
    users: list[dict]  # email, role (owner, manager, deputy), communities (deputies)
    password: str = PASSWORD


def describe(org, scale: Scale, reused: bool) -> Dataset:
    from communities.models import StaffAssignment
    from metrics.models import CommunityDay
    from tenancy.models import OrgMembership
    from tenancy.scope import org_scope

    with org_scope(org):
        sizes = {}
        for community_id, members in (
            CommunityDay.objects.for_org(org)
            .order_by("community_id", "-day")
            .distinct("community_id")
            .values_list("community_id", "members_end")
        ):
            sizes[community_id] = members
        from communities.models import Community

        ids = list(Community.objects.for_org(org).values_list("pk", flat=True))
        ids.sort(key=lambda pk: (-sizes.get(pk, 0), pk))
        deputies: dict[int, list[int]] = {}
        for user_id, community_id in (
            StaffAssignment.objects.for_org(org)
            .filter(role="deputy", ended_at=None)
            .values_list("user_id", "community_id")
        ):
            deputies.setdefault(user_id, []).append(community_id)
        users = []
        for m in (
            OrgMembership.objects.for_org(org)
            .filter(is_active=True)
            .select_related("user")
            .order_by("pk")
        ):
            role = "deputy" if m.role == "staff" else m.role
            users.append(
                {
                    "email": m.user.email,
                    "role": role,
                    "communities": sorted(deputies.get(m.user_id, [])),
                }
            )
    return Dataset(org.pk, org.slug, scale.name, reused, ids, users)


def purge(url: str, org) -> None:
    """Remove an incomplete or unwanted dataset: every tenant row of the org, then the org."""
    with connect(url) as conn:
        if not is_superuser(conn):
            stale = f"syn-stale-{int(time.time())}-{org.pk}"
            conn.execute("UPDATE tenancy_organization SET slug = %s WHERE id = %s", [stale, org.pk])
            print(f"not a superuser: left the old dataset in place as {stale}")
            return
        conn.execute("SET session_replication_role = replica")  # no FK checks, any order
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND column_name = 'organization_id' ORDER BY table_name"
            )
        ]
        for table in tables:
            conn.execute(f'DELETE FROM "{table}" WHERE organization_id = %s', [org.pk])  # noqa: S608
        conn.execute("DELETE FROM tenancy_organization WHERE id = %s", [org.pk])


def create_team(slug: str, scale: Scale):
    """The organization, its people and groups, through the services (a few hundred calls)."""
    from communities import services as community_services
    from tenancy.actors import Actor
    from tenancy.models import User
    from tenancy.scope import org_scope
    from tenancy.services import invitation_accept, invitation_create, organization_create

    owner = email(slug, "owner", 1)
    existing = User.objects.filter(email=owner).first()
    org = organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=owner,
        owner_password=None if existing else PASSWORD,
        time_zone=TIME_ZONE,
    )
    system = Actor.system(org, "bench")
    users = {"owner": [User.objects.get(email=owner)], "manager": [], "deputy": []}
    with org_scope(org):
        for role, count in TEAM.items():
            for i in range(1, count + 1):
                if role == "owner" and i == 1:
                    continue
                address = email(slug, role, i)
                _invitation, token = invitation_create(
                    actor=system, email=address, role="staff" if role == "deputy" else role
                )
                user = User.objects.filter(email=address).first()
                invitation_accept(
                    token=token,
                    user=user,
                    full_name=f"{role} {i}",
                    password="" if user else PASSWORD,
                )
                users[role].append(User.objects.get(email=address))
        for user in (u for group in users.values() for u in group):
            if not user.check_password(PASSWORD):  # a user left over from a purged dataset
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])

        sizes = group_sizes(scale)
        communities = []
        for i in range(scale.communities):
            kind = KINDS[i % len(KINDS)]
            community = community_services.community_create(
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
                community_services.rules_apply_template(
                    actor=system, community=community, template="health_food"
                )
            communities.append(community)
        managers = users["manager"]
        for i, community in enumerate(communities):
            community_services.staff_assign(
                actor=system,
                community=community,
                user=managers[i % len(managers)],
                role="sub_owner",
            )
        for j, deputy in enumerate(users["deputy"]):
            for k in range(DEPUTY_GROUPS):
                community = communities[(j * DEPUTY_GROUPS + k) % len(communities)]
                community_services.staff_assign(
                    actor=system, community=community, user=deputy, role="deputy"
                )
        for rank, (name, orders, spend) in enumerate(
            [("银卡", 2, 200), ("金卡", 5, 800), ("钻石", 10, 2000)], start=1
        ):
            community_services.tier_save(
                actor=system,
                name=name,
                rank=rank,
                min_paid_orders=orders,
                min_spend=spend,
                benefits=f"{name}会员专属价",
                discount_percent=5 * rank,
            )
    return org, [c.pk for c in communities], users


def group_sizes(scale: Scale) -> list[float]:
    """Expected memberships per group: the first pick is skewed (u^1.6) to the first groups,
    a quarter of the members also join one other group, uniformly."""
    c, exponent = scale.communities, 1.6
    return [
        scale.members * (((k + 1) / c) ** (1 / exponent) - (k / c) ** (1 / exponent))
        + 0.25 * scale.members / c
        for k in range(c)
    ]


MEMBERS_SQL = [
    """
    CREATE TEMP TABLE syn_members AS
    SELECT g AS m,
           nextval(pg_get_serial_sequence('members_member', 'id')) AS member_id,
           nextval(pg_get_serial_sequence('members_memberidentity', 'id')) AS identity_id,
           %(now)s::timestamptz - random() * make_interval(days => %(join_days)s) AS first_seen,
           floor(power(random(), 1.6) * %(c)s)::int AS k1,
           floor(random() * (%(c)s - 1))::int AS k_other,
           random() < 0.25 AND %(c)s > 1 AS second
    FROM generate_series(1, %(n)s) g
    """,
    """
    INSERT INTO members_member (id, organization_id, display_name, name_card, tags, notes, phone,
        points_balance, first_seen_at)
    SELECT member_id, %(org)s, '用户' || m,
           (%(cities)s::text[])[1 + m %% 8] || '-用户' || m || '-' || (%(products)s::text[])[1 + m %% 5],
           CASE WHEN m %% 20 = 0 THEN '["VIP"]' WHEN m %% 33 = 0 THEN '["宝妈"]' ELSE '[]' END::jsonb,
           '', '', 0, first_seen
    FROM syn_members ORDER BY m
    """,
    """
    INSERT INTO members_memberidentity (id, organization_id, member_id, platform, external_user_id,
        display_name, first_seen_at)
    SELECT identity_id, %(org)s, member_id, 'wechat', 'wxid_syn_' || m, '用户' || m, first_seen
    FROM syn_members ORDER BY m
    """,
    # memberships: the first group at first sight, a second one later for a quarter
    """
    CREATE TEMP TABLE syn_ms AS
    SELECT nextval(pg_get_serial_sequence('members_membership', 'id')) AS id, member_id,
           identity_id, (%(communities)s::bigint[])[1 + k] AS community_id, joined_at,
           CASE WHEN r < 0.15 THEN joined_at + random() * (%(now)s::timestamptz - joined_at) END
               AS left_at,
           CASE WHEN r < 0.03 THEN 'removed' WHEN r < 0.15 THEN 'left'
                WHEN joined_at > %(now)s::timestamptz - interval '1 day' THEN 'joined'
                WHEN joined_at > %(now)s::timestamptz - interval '3 days' THEN 'onboarding'
                ELSE 'active' END AS status,
           (%(churn)s::text[])[1 + floor(random() * 5)::int] AS reason,
           md5('syn' || member_id || '-' || k) AS h
    FROM (
        SELECT member_id, identity_id, k1 AS k, first_seen AS joined_at, random() AS r
        FROM syn_members
        UNION ALL
        SELECT member_id, identity_id, (k1 + 1 + k_other) %% %(c)s,
               first_seen + random() * (%(now)s::timestamptz - first_seen), random()
        FROM syn_members WHERE second
    ) s
    """,
    """
    INSERT INTO members_membership (id, organization_id, community_id, member_id, identity_id,
        status, joined_at, left_at, churn_reason, message_count, flood_count, name_card_ok,
        reminders_sent, flags, welcomed_at)
    SELECT id, %(org)s, community_id, member_id, identity_id, status, joined_at, left_at,
           CASE WHEN status = 'left' THEN reason ELSE '' END, 0, 0, true, 0, '[]', joined_at
    FROM syn_ms ORDER BY joined_at
    """,
    """
    INSERT INTO members_membershipchange (organization_id, membership_id, from_status, to_status,
        reason, actor_label, created_at)
    SELECT %(org)s, id, from_status, to_status, reason, 'bot', at
    FROM (
        SELECT id, '' AS from_status, 'joined' AS to_status, '' AS reason, joined_at AS at
        FROM syn_ms
        UNION ALL
        SELECT id, 'active', status, CASE WHEN status = 'removed' THEN 'ads' ELSE reason END,
               left_at
        FROM syn_ms WHERE left_at IS NOT NULL
    ) c ORDER BY at
    """,
    "CREATE INDEX ON syn_ms (joined_at)",
    "ANALYZE syn_ms",
    "ANALYZE members_member",
    "ANALYZE members_membership",
]

# One local day's events, in time order: members present that day ranked by a fixed hash (the
# same people are talkative every day), the first 65% of the ranks post, skewed (u^2.5) to the
# top ranks; times mostly 07:00-23:00 local, inside the member's presence that day.
DAY_PRESENT_SQL = """
CREATE TEMP TABLE syn_day AS
SELECT row_number() OVER (ORDER BY h) AS idx, member_id, community_id, lo, hi
FROM (
    SELECT member_id, community_id, h, greatest(%(day_at)s::timestamptz, joined_at) AS lo,
           least(%(day_end)s::timestamptz, coalesce(left_at, 'infinity')) AS hi
    FROM syn_ms
    WHERE joined_at < %(day_end)s AND (left_at IS NULL OR left_at > %(day_at)s)
) s
WHERE hi > lo
"""
DAY_EVENTS_SQL = """
INSERT INTO members_rawevent (organization_id, client_event_id, type, occurred_at, received_at,
    batch_id, api_key_id, community_id, member_id, payload)
SELECT %(org)s, 'syn-' || %(day)s || '-' || g, type, t, t + random() * interval '3 seconds',
       %(batch)s, NULL, community_id, member_id,
       CASE type WHEN 'message.posted' THEN '{"kind": "text", "length": 12}'
                 WHEN 'content.shared' THEN '{"url": "https://mp.example.com/s/1"}'
                 ELSE '{}' END::jsonb
FROM (
    SELECT g, p.community_id, p.member_id,
           CASE WHEN r < 0.90 THEN 'message.posted' WHEN r < 0.97 THEN 'member.checked_in'
                ELSE 'content.shared' END AS type,
           CASE WHEN c >= p.lo AND c < p.hi THEN c ELSE p.lo + random() * (p.hi - p.lo) END AS t
    FROM (
        SELECT g, 1 + floor(power(random(), 2.5) * %(posters)s)::int AS idx, random() AS r,
               %(day_at)s::timestamptz + CASE WHEN random() < 0.75
                   THEN interval '7 hours' + random() * interval '16 hours'
                   ELSE random() * interval '24 hours' END AS c
        FROM generate_series(1, %(n)s) g
    ) pick
    JOIN syn_day p ON p.idx = pick.idx
) e
ORDER BY t
"""

AFTER_EVENTS_SQL = [
    "ANALYZE members_rawevent",
    "ANALYZE members_membership",
    # what ingestion keeps on the membership
    """
    UPDATE members_membership m SET last_active_at = a.last_at, message_count = a.messages
    FROM (
        SELECT community_id, member_id, max(occurred_at) AS last_at,
               count(*) FILTER (WHERE type = 'message.posted') AS messages
        FROM members_rawevent WHERE organization_id = %(org)s AND batch_id = %(batch)s
        GROUP BY 1, 2
    ) a
    WHERE m.organization_id = %(org)s AND m.community_id = a.community_id
      AND m.member_id = a.member_id
    """,
    # a few warned (for a link, recently), with their warning and history
    """
    CREATE TEMP TABLE syn_warned AS
    SELECT id, last_active_at AS at FROM members_membership
    WHERE organization_id = %(org)s AND status = 'active'
      AND last_active_at > %(now)s::timestamptz - interval '20 days' AND random() < 0.03
    """,
    """
    UPDATE members_membership m SET status = 'warned'
    FROM syn_warned w WHERE m.organization_id = %(org)s AND m.id = w.id
    """,
    """
    INSERT INTO members_warning (organization_id, membership_id, reason, detail, created_at,
        expires_at, actor_label)
    SELECT %(org)s, id, 'link', 'https://shop.example.net/p/1', at, at + interval '30 days', 'bot'
    FROM syn_warned
    """,
    """
    INSERT INTO members_membershipchange (organization_id, membership_id, from_status, to_status,
        reason, actor_label, created_at)
    SELECT %(org)s, id, 'active', 'warned', 'link', 'bot', at FROM syn_warned
    """,
    # silent for the groups' 14 days: dormant, as the hourly scan leaves them
    """
    CREATE TEMP TABLE syn_dormant AS
    SELECT id, status, coalesce(last_active_at, joined_at) + %(dormant)s * interval '1 day' AS at
    FROM members_membership
    WHERE organization_id = %(org)s AND status IN ('joined', 'onboarding', 'active', 'warned')
      AND coalesce(last_active_at, joined_at) < %(now)s::timestamptz - %(dormant)s * interval '1 day'
    """,
    """
    UPDATE members_membership m SET status = 'dormant', dormant_since = d.at
    FROM syn_dormant d WHERE m.organization_id = %(org)s AND m.id = d.id
    """,
    """
    INSERT INTO members_membershipchange (organization_id, membership_id, from_status, to_status,
        reason, actor_label, created_at)
    SELECT %(org)s, id, status, 'dormant', 'silent', 'dormant scan', at FROM syn_dormant
    """,
]

ORDERS_SQL = [
    """
    CREATE TEMP TABLE syn_buyers AS
    SELECT row_number() OVER (ORDER BY md5('b' || h)) AS idx, member_id, community_id, lo, hi
    FROM (
        SELECT member_id, community_id, h, greatest(%(from)s::timestamptz, joined_at) AS lo,
               least(%(now)s::timestamptz, coalesce(left_at, %(now)s)) AS hi
        FROM syn_ms
    ) s WHERE hi > lo
    """,
    """
    INSERT INTO campaigns_order (organization_id, external_order_id, member_id, community_id,
        amount, items, status, placed_at, paid_at, cancelled_at, refunded_at, points_awarded,
        quantity, idempotency_key, request_fingerprint)
    SELECT %(org)s, 'syn-ord-' || g, member_id, community_id, amount,
           '[{"name": "深海鱼油", "quantity": 1}]', status, placed_at,
           CASE WHEN status IN ('paid', 'refunded') THEN placed_at + interval '3 minutes' END,
           CASE WHEN status = 'cancelled' THEN placed_at + interval '10 minutes' END,
           CASE WHEN status = 'refunded' THEN placed_at + interval '3 days' END,
           0, 1, '', ''
    FROM (
        SELECT g, p.member_id, p.community_id, p.lo + random() * (p.hi - p.lo) AS placed_at,
               round((29 + random() * 370)::numeric, 2) AS amount,
               CASE WHEN s < 0.62 THEN 'paid' WHEN s < 0.87 THEN 'placed'
                    WHEN s < 0.93 THEN 'cancelled' WHEN s < 0.97 THEN 'refunded'
                    ELSE 'expired' END AS status
        FROM (
            SELECT g, 1 + floor(power(random(), 3) * (SELECT count(*) FROM syn_buyers))::int
                   AS idx, random() AS s
            FROM generate_series(1, %(n)s) g
        ) pick
        JOIN syn_buyers p ON p.idx = pick.idx
    ) o
    ORDER BY placed_at
    """,
    "ANALYZE campaigns_order",
    # tiers by what members bought (as the nightly evaluation would have them)
    """
    UPDATE members_member m SET tier_id = t.id, tier_since = %(now)s::timestamptz - interval '10 days'
    FROM (
        SELECT member_id, count(*) AS n FROM campaigns_order
        WHERE organization_id = %(org)s AND status IN ('paid', 'placed') GROUP BY member_id
    ) b
    JOIN communities_viptier t ON t.organization_id = %(org)s AND t.is_active
         AND t.min_paid_orders = (
             SELECT max(min_paid_orders) FROM communities_viptier
             WHERE organization_id = %(org)s AND is_active AND min_paid_orders <= b.n)
    WHERE m.organization_id = %(org)s AND m.id = b.member_id
    """,
]

CONTENT_SQL = [
    """
    INSERT INTO communities_plantarget (organization_id, plan_id, community_id)
    SELECT %(org)s, %(plan)s, c FROM unnest(%(communities)s::bigint[]) c
    """,
    """
    INSERT INTO communities_planslot (organization_id, plan_id, weekday, local_time,
        content_type, template, is_active)
    VALUES (%(org)s, %(plan)s, 0, '20:00', 'tips', '周一健康小贴士：每天一杯温水。', true),
           (%(org)s, %(plan)s, 2, '12:00', 'member_story', '会员故事：坚持打卡三十天的变化。', true),
           (%(org)s, %(plan)s, 4, '19:30', 'deal_preview', '周五福利预告：今晚八点秒杀鱼油。', true),
           (%(org)s, %(plan)s, 6, '21:00', 'discussion', '周日话题：你最喜欢的早餐是什么？', true)
    """,
    # 8 weeks sent, 2 weeks ahead: one post per slot, group and day
    """
    INSERT INTO communities_scheduledpost (organization_id, community_id, plan_id, slot_id,
        local_date, scheduled_at, content_type, text, status, edited, sent_at, created_at)
    SELECT %(org)s, t.community_id, %(plan)s, s.id, d, at, s.content_type, s.template,
           CASE WHEN at <= %(now)s THEN 'sent' ELSE 'scheduled' END, false,
           CASE WHEN at <= %(now)s THEN at END, %(now)s
    FROM communities_plantarget t
    JOIN communities_planslot s ON s.organization_id = %(org)s AND s.plan_id = t.plan_id
    CROSS JOIN LATERAL (
        SELECT d::date AS d, (d::date + s.local_time) AT TIME ZONE %(tz)s AS at
        FROM generate_series(%(today)s::date - 56, %(today)s::date + 14, interval '1 day') d
        WHERE extract(isodow FROM d)::int - 1 = s.weekday
    ) days
    WHERE t.organization_id = %(org)s AND t.plan_id = %(plan)s
    """,
]

CARE_SQL = """
INSERT INTO care_case (organization_id, member_id, community_id, kind, priority, status, subject,
    source, source_event_id, assignee_id, opened_at, opened_by_label, clock_started_at,
    first_response_due_at, responded_at, acknowledged_at, resolved_at, resolution,
    followed_up_at, closed_at, updated_at, responded_by_id, resolved_by_id, reopen_count)
SELECT %(org)s, member_id, community_id, kind,
       (ARRAY['low', 'normal', 'normal', 'high', 'urgent'])[1 + floor(random() * 5)::int],
       status, subject, 'keyword', '', assignee, opened_at, 'bot', opened_at,
       opened_at + interval '30 minutes',
       CASE WHEN step >= 1 THEN opened_at + interval '20 minutes' END,
       CASE WHEN step >= 2 THEN opened_at + interval '1 hour' END,
       CASE WHEN step >= 3 THEN opened_at + interval '1 day' END,
       CASE WHEN step >= 3 THEN 'replacement' ELSE '' END,
       CASE WHEN step >= 4 THEN opened_at + interval '3 days' END,
       CASE WHEN step >= 5 THEN opened_at + interval '4 days' END,
       opened_at, CASE WHEN step >= 1 THEN assignee END, CASE WHEN step >= 3 THEN assignee END,
       0
FROM (
    SELECT member_id, community_id,
           (ARRAY['complaint', 'complaint', 'after_sales', 'refund'])[1 + floor(random() * 4)::int]
               AS kind,
           (ARRAY['open', 'responded', 'acknowledged', 'resolved', 'followed_up', 'closed'])[1 + step]
               AS status,
           step, (ARRAY['收到的鱼油漏了', '发货太慢', '想退货', '优惠券用不了'])[1 + floor(random() * 4)::int]
               AS subject,
           CASE WHEN random() < 0.7
                THEN (%(handlers)s::bigint[])[1 + floor(random() * %(n_handlers)s)::int] END
               AS assignee,
           %(now)s::timestamptz - CASE WHEN step = 5 THEN 5 + random() * 80 ELSE random() * 6 END
               * interval '1 day' AS opened_at
    FROM (
        SELECT member_id, community_id,
               CASE WHEN r < 0.2 THEN 0 WHEN r < 0.3 THEN 1 WHEN r < 0.35 THEN 2
                    WHEN r < 0.45 THEN 3 WHEN r < 0.5 THEN 4 ELSE 5 END AS step
        FROM (SELECT member_id, community_id, random() AS r FROM syn_ms
              WHERE left_at IS NULL AND random() < 0.01) s
    ) c
) x
"""

AUDIT_SQL = """
INSERT INTO tenancy_auditlogentry (organization_id, created_at, actor_user_id, actor_label, action,
    object_type, object_id, object_repr, summary, changes)
SELECT %(org)s, %(now)s::timestamptz - random() * interval '90 days', u, 'staff',
       (ARRAY['member.warn', 'member.remove', 'member.points_adjust', 'post.update',
              'campaign.update', 'community.update'])[k],
       (ARRAY['membership', 'membership', 'member', 'scheduledpost', 'campaign', 'community'])[k],
       (1 + floor(random() * 100000))::text, '用户' || g,
       (ARRAY['发广告', '屡次发广告', '+20 活动奖励', '改了文案', '库存 200', 'tags'])[k],
       '{}'::jsonb
FROM (
    SELECT g, (%(handlers)s::bigint[])[1 + floor(random() * %(n_handlers)s)::int] AS u,
           1 + floor(random() * 6)::int AS k
    FROM generate_series(1, %(n)s) g
) s
"""


def generate(url: str, org, community_ids: list[int], users: dict, scale: Scale, phases) -> dict:
    from metrics.days import local_day

    now = datetime.now(UTC).replace(microsecond=0)
    today = local_day(org, now)
    tz = org.tzinfo
    out: dict = {}
    handlers = [u.pk for u in users["owner"] + users["manager"]]
    base = {
        "org": org.pk,
        "now": now,
        "tz": TIME_ZONE,
        "today": today,
        "batch": BATCH,
        "c": len(community_ids),
        "communities": community_ids,
        "handlers": handlers,
        "n_handlers": len(handlers),
        "dormant": DORMANT_DAYS,
    }
    with connect(url) as conn:
        if is_superuser(conn):
            conn.execute("SET session_replication_role = replica")  # consistent by construction
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SELECT setseed(0.2026)")

        def members():
            params = {
                **base,
                "n": scale.members,
                "join_days": JOIN_DAYS,
                "cities": CITIES,
                "products": PRODUCTS,
                "churn": CHURN,
            }
            with conn.transaction():
                for sql in MEMBERS_SQL:
                    conn.execute(sql, params)
            return conn.execute("SELECT count(*) FROM syn_ms").fetchone()[0]

        out["memberships"] = phases.run("members and memberships", members)

        def events():
            first = today - timedelta(days=EVENT_DAYS - 1)
            day_starts = [
                datetime.combine(first + timedelta(days=i), datetime.min.time(), tz)
                for i in range(EVENT_DAYS + 1)
            ]
            spans = [
                (max(0.0, (min(day_starts[i + 1], now) - day_starts[i]).total_seconds()))
                for i in range(EVENT_DAYS)
            ]
            total_span = sum(spans)
            inserted, planned = 0, 0
            for i in range(EVENT_DAYS):
                n = round(scale.events * sum(spans[: i + 1]) / total_span) - planned
                planned += n
                day_at, day_end = day_starts[i], min(day_starts[i + 1], now)
                with conn.transaction():
                    conn.execute("DROP TABLE IF EXISTS syn_day")
                    conn.execute(DAY_PRESENT_SQL, {"day_at": day_at, "day_end": day_end})
                    present = conn.execute("SELECT count(*) FROM syn_day").fetchone()[0]
                    if not present or n <= 0:
                        continue
                    cur = conn.execute(
                        DAY_EVENTS_SQL,
                        {
                            **base,
                            "day": (first + timedelta(days=i)).isoformat(),
                            "day_at": day_at,
                            "posters": max(1, int(present * 0.65)),
                            "n": n,
                        },
                    )
                    inserted += cur.rowcount
                if i % 15 == 14:
                    print(f"  {i + 1} days, {inserted:,} events", flush=True)
            return inserted

        out["events"] = phases.run("raw events", events)

        def after_events():
            with conn.transaction():
                for sql in AFTER_EVENTS_SQL:
                    conn.execute(sql, base)
            return {
                "warned": conn.execute("SELECT count(*) FROM syn_warned").fetchone()[0],
                "dormant": conn.execute("SELECT count(*) FROM syn_dormant").fetchone()[0],
            }

        out.update(phases.run("activity, warnings, dormant", after_events))

        def orders():
            params = {
                **base,
                "n": scale.orders,
                "from": datetime.combine(
                    today - timedelta(days=EVENT_DAYS - 1), datetime.min.time(), tz
                ),
            }
            with conn.transaction():
                conn.execute(ORDERS_SQL[0], params)
                inserted = conn.execute(ORDERS_SQL[1], params).rowcount
                for sql in ORDERS_SQL[2:]:
                    conn.execute(sql, params)
            return inserted

        out["orders"] = phases.run("orders and tiers", orders)

        def content_campaigns_care():
            with conn.transaction():
                plan = conn.execute(
                    "INSERT INTO communities_contentplan (organization_id, name, is_active, "
                    "created_at, created_by_id) VALUES (%s, '每周内容', true, %s, %s) RETURNING id",
                    [org.pk, now, handlers[0]],
                ).fetchone()[0]
                for sql in CONTENT_SQL:
                    conn.execute(sql, {**base, "plan": plan})
                campaigns(conn, org.pk, community_ids, now, handlers[0])
                conn.execute(CARE_SQL, base)
                # deputies handle cases in their groups
                conn.execute(
                    """
                    UPDATE care_case c SET assignee_id = s.user_id
                    FROM communities_staffassignment s
                    WHERE c.organization_id = %(org)s AND s.organization_id = %(org)s
                      AND s.role = 'deputy' AND s.ended_at IS NULL
                      AND s.community_id = c.community_id AND c.id %% 2 = 0
                    """,
                    base,
                )
                conn.execute(AUDIT_SQL, {**base, "n": max(1000, scale.members // 10)})
            return {
                "posts": conn.execute(
                    "SELECT count(*) FROM communities_scheduledpost WHERE organization_id = %s",
                    [org.pk],
                ).fetchone()[0],
                "cases": conn.execute(
                    "SELECT count(*) FROM care_case WHERE organization_id = %s", [org.pk]
                ).fetchone()[0],
            }

        out.update(phases.run("content, campaigns, care, audit", content_campaigns_care))
    phases.run("vacuum analyze", vacuum, url)
    return out


def campaigns(conn, org_id: int, community_ids: list[int], now: datetime, user_id: int) -> None:
    """A dozen campaigns: flash sales over the last months, one live, two ahead; two group buys."""
    products = []
    for i, name in enumerate(PRODUCTS):
        products.append(
            conn.execute(
                "INSERT INTO campaigns_product (organization_id, name, price, image_url, "
                "created_at) VALUES (%s, %s, %s, '', %s) RETURNING id",
                [org_id, name, 99 + 40 * i, now - timedelta(days=120)],
            ).fetchone()[0]
        )
    specs = [(-80 + 8 * i, "flash_sale") for i in range(9)] + [(2, "flash_sale"), (5, "flash_sale")]
    specs += [(-20, "group_buy"), (-1, "group_buy")]
    for i, (offset, kind) in enumerate(specs):
        starts = now + timedelta(days=offset, hours=-1 if offset == -1 else 0)
        stock = 200 + 50 * (i % 5)
        left = stock if offset > 0 else max(0, stock - 40 * (i % 6) - 30)
        cid = conn.execute(
            """
            INSERT INTO campaigns_campaign (organization_id, kind, name, product_id, status,
                starts_at, ends_at, price, original_price, stock_total, stock_left, per_member_cap,
                payment_minutes, cost, sold_out_at, team_size, team_hours, created_at,
                created_by_id)
            VALUES (%s, %s, %s, %s, 'scheduled', %s, %s, %s, %s, %s, %s, 2, 15, 0, NULL, %s, %s,
                    %s, %s) RETURNING id
            """,
            [
                org_id,
                kind,
                f"{PRODUCTS[i % 5]}{'拼团' if kind == 'group_buy' else '秒杀'} 第{i + 1}期",
                products[i % 5],
                starts,
                starts + timedelta(days=2 if kind == "group_buy" else 1),
                39 + i,
                99 + i,
                stock,
                left,
                3 if kind == "group_buy" else None,
                24 if kind == "group_buy" else None,
                starts - timedelta(days=3),
                user_id,
            ],
        ).fetchone()[0]
        targets = {community_ids[(i * 3 + k) % len(community_ids)] for k in range(5)}
        for community_id in sorted(targets):
            conn.execute(
                "INSERT INTO campaigns_campaigntarget (organization_id, campaign_id, community_id) "
                "VALUES (%s, %s, %s)",
                [org_id, cid, community_id],
            )


BIG_TABLES = (
    "members_member",
    "members_memberidentity",
    "members_membership",
    "members_membershipchange",
    "members_rawevent",
    "campaigns_order",
    "communities_scheduledpost",
    "care_case",
    "tenancy_auditlogentry",
)


def vacuum(url: str, tables=BIG_TABLES) -> None:
    """What autovacuum would have done by the time anyone reads."""
    with connect(url) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


def rebuild(url: str, org, phases) -> int:
    """`rollups.rebuild(org)`: every group's rollups from its source records, as
    `manage.py rebuild_rollups` does."""
    from metrics import rollups
    from tenancy.scope import org_scope

    with org_scope(org):
        days = phases.run("rebuild rollups", rollups.rebuild, org)
    phases.run(
        "vacuum analyze rollups",
        vacuum,
        url,
        ("metrics_memberday", "metrics_communityday", "metrics_dirtyday"),
    )
    return days


def row_counts(url: str, org_id: int) -> dict:
    tables = {
        "communities": "communities_community",
        "members": "members_member",
        "memberships": "members_membership",
        "membership_changes": "members_membershipchange",
        "raw_events": "members_rawevent",
        "orders": "campaigns_order",
        "scheduled_posts": "communities_scheduledpost",
        "campaigns": "campaigns_campaign",
        "care_cases": "care_case",
        "audit_entries": "tenancy_auditlogentry",
        "member_days": "metrics_memberday",
        "community_days": "metrics_communityday",
    }
    with connect(url) as conn:
        counts = {
            name: conn.execute(
                f"SELECT count(*) FROM {table} WHERE organization_id = %s",  # noqa: S608
                [org_id],
            ).fetchone()[0]
            for name, table in tables.items()
        }
        counts["dormant_memberships"] = conn.execute(
            "SELECT count(*) FROM members_membership WHERE organization_id = %s "
            "AND status = 'dormant'",
            [org_id],
        ).fetchone()[0]
    return counts


def ensure(scale: Scale, *, fresh: bool = False, phases: Phases | None = None) -> Dataset:
    """The dataset of this scale: reused if complete (unless `fresh`), else generated.
    Django must be set up (`setup_django`)."""
    from tenancy.models import Organization

    url = os.environ["DATABASE_URL"]
    phases = phases or Phases()
    slug = slug_for(scale)
    org = Organization.objects.filter(slug=slug).first()
    if org is not None and org.name == COMPLETE and not fresh:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        return describe(org, scale, reused=True)
    if org is not None:
        phases.run("purge old dataset", purge, url, org)
    org, community_ids, users = phases.run("team and groups (services)", create_team, slug, scale)
    generated = generate(url, org, community_ids, users, scale, phases)
    print("  " + ", ".join(f"{k} {v:,}" for k, v in generated.items()))
    days = rebuild(url, org, phases)
    print(f"  {days:,} group-days of rollups")
    org.name = COMPLETE
    org.save(update_fields=["name"])
    return describe(org, scale, reused=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--fresh", action="store_true", help="generate again even if present")
    parser.add_argument("--json-out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    started = time.perf_counter()
    url = setup_django()
    phases = Phases()
    dataset = ensure(scale, fresh=args.fresh, phases=phases)
    counts = row_counts(url, dataset.org_id)
    wall = time.perf_counter() - started
    print(f"\norganization {dataset.slug} (id {dataset.org_id}), scale {scale.name}")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(
        f"  {len(dataset.users)} logins (password {PASSWORD!r}), e.g. {dataset.users[0]['email']}"
    )
    print(f"wall time {wall:.1f} s")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "scale": asdict(scale),
            "dataset": {k: v for k, v in asdict(dataset).items() if k != "password"},
            "rows": counts,
            "phases_s": phases.seconds,
            "wall_s": round(wall, 1),
        }
        args.json_out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
