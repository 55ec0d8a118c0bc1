"""The synthetic organization's business, in set-based SQL: orders (repeat buyers, 62% paid,
25% placed; the tiers they earn come from the nightly job, see `tiers`), the eight weeks of posts already sent, care cases (about
1% of the memberships, at every step of their life) and an audit log of past actions."""

from __future__ import annotations

from bench.lib import app

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
        quantity, idempotency_key, request_fingerprint, tier_discount, perk_discount,
        coupon_discount, shipping_fee, shipping_waived)
    SELECT %(org)s, 'syn-ord-' || g, member_id, community_id, amount,
           '[{"name": "深海鱼油", "quantity": 1}]', status, placed_at,
           CASE WHEN status IN ('paid', 'refunded') THEN placed_at + interval '3 minutes' END,
           CASE WHEN status = 'cancelled' THEN placed_at + interval '10 minutes' END,
           CASE WHEN status = 'refunded' THEN placed_at + interval '3 days' END,
           0, 1, '', '', 0, 0, 0, 0, false
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
]

# the plan's posts already sent, over the last eight weeks (the service laid out the next two)
PAST_POSTS_SQL = """
INSERT INTO communities_scheduledpost (organization_id, community_id, plan_id, slot_id,
    local_date, scheduled_at, content_type, text, status, edited, sent_at, created_at)
SELECT %(org)s, t.community_id, t.plan_id, s.id, d, at, s.content_type, s.template, 'sent', false,
       at, at - interval '7 days'
FROM communities_plantarget t
JOIN communities_planslot s ON s.organization_id = %(org)s AND s.plan_id = t.plan_id AND s.is_active
CROSS JOIN LATERAL (
    SELECT d::date AS d, (d::date + s.local_time) AT TIME ZONE %(tz)s AS at
    FROM generate_series(%(today)s::date - 56, %(today)s::date, interval '1 day') d
    WHERE extract(isodow FROM d)::int - 1 = s.weekday
) days
WHERE t.organization_id = %(org)s AND t.plan_id = %(plan)s AND at <= %(now)s
"""

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


# deputies handle the cases of their groups
CARE_ASSIGN_SQL = """
UPDATE care_case c SET assignee_id = s.user_id
FROM communities_staffassignment s
WHERE c.organization_id = %(org)s AND s.organization_id = %(org)s
  AND s.role = 'deputy' AND s.ended_at IS NULL
  AND s.community_id = c.community_id AND c.id %% 2 = 0
"""


def orders(conn, base: dict, n: int, since) -> int:
    params = {**base, "n": n, "from": since}
    with conn.transaction():
        conn.execute(ORDERS_SQL[0], params)
        inserted = conn.execute(ORDERS_SQL[1], params).rowcount
        for sql in ORDERS_SQL[2:]:
            conn.execute(sql, params)
    return inserted


def posts_care_audit(conn, base: dict, plan_id: int, audit_entries: int) -> dict:
    with conn.transaction():
        conn.execute(PAST_POSTS_SQL, {**base, "plan": plan_id})
        conn.execute(CARE_SQL, base)
        conn.execute(CARE_ASSIGN_SQL, base)
        conn.execute(AUDIT_SQL, {**base, "n": audit_entries})

    def count(table):
        sql = f"SELECT count(*) FROM {table} WHERE organization_id = %s"
        return conn.execute(sql, [base["org"]]).fetchone()[0]

    return {"posts": count("communities_scheduledpost"), "cases": count("care_case")}


def tiers(org, now) -> int:
    """The tiers the orders earn, by the nightly evaluation itself (`members.jobs`)."""
    with app.org_scope(org):
        return app.evaluate_tiers(org, now)


def dormant_left_to_do(org, now) -> int:
    """What the dormant scan would still mark right after generation (0: the SQL left the
    memberships as the scan would have): the job, in a transaction rolled back."""
    from django.db import transaction

    with app.org_scope(org), transaction.atomic():
        left = app.mark_dormant(org, now)
        transaction.set_rollback(True)
    return left
