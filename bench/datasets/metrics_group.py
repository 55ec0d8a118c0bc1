"""The metrics benchmark's dataset: one organization (Asia/Shanghai) with one group of
`members` members, each with one identity, one membership and its history (joined over the 120
days before the 30-day window, a fifth gone since: left with a churn reason, or removed), the
raw events of `metrics_events`, and `orders` orders over the same 90 days, skewed to a few
buyers (repeat buyers), 62% paid, 25% placed, the rest cancelled, refunded or expired. Then
the rollups (`rebuild_rollups`) and VACUUM ANALYZE. Reused by a later run of the same scale."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.lib import app, db

from .metrics_events import TIME_ZONE, bounds, build_people, generate_events, remove_late_events

JOIN_DAYS = 120  # members joined over the 120 days before the 30-day window
LEAVE_SHARE = 0.20  # members who left since (a fifth of them removed)
COMPLETE = "Metrics benchmark"  # the org's name once data and rollups are all there


def dataset_slug(members: int, events: int, orders: int) -> str:
    return f"bm-{members}-{events}-{orders}"


def find_dataset(slug: str):
    """(org, its group) if complete; (org or None, None) otherwise."""
    org = app.Organization.objects.filter(slug=slug).first()
    if org is None or org.name != COMPLETE:
        return org, None
    with app.org_scope(org):
        community = app.Community.objects.for_org(org).order_by("pk").first()
    return org, community


def create_org(slug: str):
    org = app.organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=f"{slug}@bench.example.com",
        time_zone=TIME_ZONE,
    )
    community = app.community_create(
        actor=app.system_actor(org),
        name="健康交流大群",
        kind="general",
        platform="wechat",
        external_id="wx-bench-metrics",
        capacity=100_000,
    )
    return org, community


def generate_members(conn, org_id: int, community_id: int, n: int, b: dict) -> None:
    """n members, each with one identity, one membership and its history: joined over the
    120 days before the window, 20% gone since (left with a reason, or removed)."""
    params = {
        "org": org_id,
        "community": community_id,
        "n": n,
        "ws": b["window_start_at"],
        "now": b["now"],
        "join_days": JOIN_DAYS,
        "leave": LEAVE_SHARE,
    }
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT setseed(0.20261121)")
        cur.execute(
            """
            CREATE TEMP TABLE bench_gen AS
            SELECT g AS m,
                   nextval(pg_get_serial_sequence('members_member', 'id')) AS member_id,
                   nextval(pg_get_serial_sequence('members_memberidentity', 'id')) AS identity_id,
                   nextval(pg_get_serial_sequence('members_membership', 'id')) AS membership_id,
                   join_at,
                   CASE WHEN r1 < %(leave)s THEN join_at + r2 * (%(now)s - join_at) END AS leave_at,
                   CASE WHEN r1 < %(leave)s AND r3 < 0.2 THEN 'removed'
                        WHEN r1 < %(leave)s THEN 'left'
                        WHEN r3 < 0.1 THEN 'dormant' ELSE 'active' END AS status,
                   CASE WHEN r1 < %(leave)s AND r3 >= 0.2 THEN
                        (ARRAY['content_not_useful', 'too_many_ads', 'no_benefits', 'other',
                               ''])[1 + floor(r4 * 5)::int]
                        ELSE '' END AS reason
            FROM (
                SELECT g, %(ws)s::timestamptz - random() * make_interval(days => %(join_days)s)
                       AS join_at, random() AS r1, random() AS r2, random() AS r3, random() AS r4
                FROM generate_series(1, %(n)s) g
            ) s
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO members_member (id, organization_id, display_name, name_card, tags,
                notes, phone, points_balance, first_seen_at)
            SELECT member_id, %(org)s, '用户' || m, '', '[]', '', '', 0, join_at
            FROM bench_gen ORDER BY m
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO members_memberidentity (id, organization_id, member_id, platform,
                external_user_id, display_name, first_seen_at)
            SELECT identity_id, %(org)s, member_id, 'wechat', 'wxid_bm_' || m, '用户' || m,
                   join_at
            FROM bench_gen ORDER BY m
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO members_membership (id, organization_id, community_id, member_id,
                identity_id, status, joined_at, left_at, churn_reason, message_count,
                flood_count, name_card_ok, reminders_sent, flags)
            SELECT membership_id, %(org)s, %(community)s, member_id, identity_id, status,
                   join_at, leave_at, CASE WHEN status = 'left' THEN reason ELSE '' END, 0, 0,
                   true, 0, '[]'
            FROM bench_gen ORDER BY m
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO members_membershipchange (organization_id, membership_id, from_status,
                to_status, reason, actor_label, created_at)
            SELECT %(org)s, membership_id, from_status, to_status, reason, 'bot', at
            FROM (
                SELECT membership_id, '' AS from_status, 'joined' AS to_status, '' AS reason,
                       join_at AS at
                FROM bench_gen
                UNION ALL
                SELECT membership_id, 'active', status,
                       CASE WHEN status = 'removed' THEN 'ads' ELSE reason END, leave_at
                FROM bench_gen WHERE leave_at IS NOT NULL
            ) c ORDER BY at
            """,
            params,
        )
        cur.execute("DROP TABLE bench_gen")


def generate_orders(conn, org_id: int, community_id: int, n: int, b: dict) -> int:
    """n orders over the last 90 days, heavily skewed to a few buyers (repeat buyers), each
    placed while its member was in the group; 87% count as bought (paid or placed)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT setseed(0.314)")
        people = cur.execute("SELECT count(*) FROM bench_people").fetchone()[0]
        cur.execute(
            """
            INSERT INTO campaigns_order (organization_id, external_order_id, member_id,
                community_id, amount, items, status, placed_at, paid_at, cancelled_at,
                refunded_at, points_awarded, quantity, idempotency_key, request_fingerprint,
                tier_discount, perk_discount, coupon_discount, shipping_fee, shipping_waived)
            SELECT %(org)s, 'ord-' || g, member_id, %(community)s, amount, '[]', status,
                   placed_at,
                   CASE WHEN status IN ('paid', 'refunded')
                        THEN placed_at + interval '3 minutes' END,
                   CASE WHEN status = 'cancelled' THEN placed_at + interval '10 minutes' END,
                   CASE WHEN status = 'refunded' THEN placed_at + interval '3 days' END,
                   0, 1, '', '', 0, 0, 0, 0, false
            FROM (
                SELECT g, p.member_id, lo + random() * (hi - lo) AS placed_at,
                       round((29 + random() * 370)::numeric, 2) AS amount,
                       CASE WHEN s < 0.62 THEN 'paid' WHEN s < 0.87 THEN 'placed'
                            WHEN s < 0.93 THEN 'cancelled' WHEN s < 0.97 THEN 'refunded'
                            ELSE 'expired' END AS status
                FROM (
                    SELECT g, 1 + floor(power(random(), 2.5) * %(people)s)::int AS idx,
                           random() AS s
                    FROM generate_series(1, %(n)s * 2) g
                ) pick
                JOIN bench_people p ON p.idx = pick.idx
                CROSS JOIN LATERAL (
                    SELECT greatest(%(from)s::timestamptz, p.join_at) AS lo,
                           least(%(now)s::timestamptz, coalesce(p.leave_at, %(now)s)) AS hi
                ) span
                WHERE hi > lo
                ORDER BY g LIMIT %(n)s
            ) o
            ORDER BY placed_at
            """,
            {
                "org": org_id,
                "community": community_id,
                "n": n,
                "people": people,
                "from": b["events_from_at"],
                "now": b["now"],
            },
        )
        return cur.rowcount


SOURCE_TABLES = (
    "members_member",
    "members_memberidentity",
    "members_membership",
    "members_membershipchange",
    "members_rawevent",
    "campaigns_order",
)
ROLLUP_TABLES = ("metrics_memberday", "metrics_communityday")


def generate(org, community, members: int, events: int, orders: int, phases) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    today = app.local_day(org, now)
    b = bounds(today, now)
    out = {}
    with db.loading() as conn:
        phases.run("generate members", generate_members, conn, org.pk, community.pk, members, b)
        with conn.cursor() as cur:
            build_people(cur, org.pk, community.pk)
        out.update(phases.run("generate events", generate_events, conn, org.pk, events, b, today))
        out["orders"] = phases.run(
            "generate orders", generate_orders, conn, org.pk, community.pk, orders, b
        )
    phases.run("vacuum analyze sources", db.vacuum, None, SOURCE_TABLES)
    print(
        f"  {out['messages']:,} messages in {out['posting_pairs']:,} (member, day) pairs; "
        f"{out['raw_rows'] - out['messages']:,} check-ins; {out['orders']:,} orders; "
        f"the top 10% of posters wrote {100 * out['top10_share']:.0f}% of the messages"
    )
    return out


def rebuild(org, phases) -> dict:
    with app.org_scope(org):
        days = phases.run("rebuild rollups", app.rebuild_rollups, org)
    print(f"  {days} group-days recomputed")
    phases.run("vacuum analyze rollups", db.vacuum, None, ROLLUP_TABLES)
    return {"rebuild_group_days": days}


def dataset_rows(org) -> dict:
    rows = db.count_rows(
        None,
        org.pk,
        {
            "rows_members": "members_member",
            "rows_message_events": "members_rawevent AND type = 'message.posted'",
            "rows_other_events": "members_rawevent AND type <> 'message.posted'",
            "rows_orders": "campaigns_order",
            "rows_memberday": "metrics_memberday",
            "rows_communityday": "metrics_communityday",
        },
    )
    with db.connect() as conn:
        share = conn.execute(
            "SELECT avg(speakers::float / members_end) FROM metrics_communityday "
            "WHERE organization_id = %s AND members_end > 0 AND messages > 0",
            [org.pk],
        ).fetchone()[0]
    return {**rows, "daily_speaker_share": round(share or 0, 3)}


def clean_late_events(org) -> int:
    """Delete a previous run's late events (if any) and refresh their days, so that a reused
    dataset stays the size it was generated at."""
    removed, days = remove_late_events(org)
    with app.org_scope(org):
        app.mark_days(org, days)
        app.refresh_rollups(org)  # also anything a crashed run left marked
    return removed
