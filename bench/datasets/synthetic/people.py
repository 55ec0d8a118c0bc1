"""The synthetic organization's people, in set-based SQL: members with one identity and one
or two memberships and their history; raw events day by day in time order; then what ingestion
and the scans would have left on the memberships (last activity, message counts, warnings,
dormancy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.lib import app

from .shape import CHURN, CITIES, EVENT_DAYS, JOIN_DAYS, PRODUCTS

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


def members(conn, base: dict, n: int) -> int:
    """Members, identities, memberships and their history; returns the memberships."""
    params = {
        **base,
        "n": n,
        "join_days": JOIN_DAYS,
        "cities": CITIES,
        "products": PRODUCTS,
        "churn": CHURN,
    }
    with conn.transaction():
        for sql in MEMBERS_SQL:
            conn.execute(sql, params)
    return conn.execute("SELECT count(*) FROM syn_ms").fetchone()[0]


def events(conn, base: dict, total: int, tz, today, now: datetime) -> int:
    """`total` raw events over the last EVENT_DAYS local days, shared among the days by their
    length (today only up to now), one statement per day."""
    first = today - timedelta(days=EVENT_DAYS - 1)
    day_starts = [
        datetime.combine(first + timedelta(days=i), datetime.min.time(), tz)
        for i in range(EVENT_DAYS + 1)
    ]
    spans = [
        max(0.0, (min(day_starts[i + 1], now) - day_starts[i]).total_seconds())
        for i in range(EVENT_DAYS)
    ]
    total_span = sum(spans)
    app.raw_event_months(day_starts[0].astimezone(UTC), now.astimezone(UTC))  # as the job would
    inserted, planned = 0, 0
    for i in range(EVENT_DAYS):
        n = round(total * sum(spans[: i + 1]) / total_span) - planned
        planned += n
        day_at, day_end = day_starts[i], min(day_starts[i + 1], now)
        with conn.transaction():
            conn.execute("DROP TABLE IF EXISTS syn_day")
            conn.execute(DAY_PRESENT_SQL, {"day_at": day_at, "day_end": day_end})
            present = conn.execute("SELECT count(*) FROM syn_day").fetchone()[0]
            if not present or n <= 0:
                continue
            params = {
                **base,
                "day": (first + timedelta(days=i)).isoformat(),
                "day_at": day_at,
                "posters": max(1, int(present * 0.65)),
                "n": n,
            }
            inserted += conn.execute(DAY_EVENTS_SQL, params).rowcount
        if i % 15 == 14:
            print(f"  {i + 1} days, {inserted:,} events", flush=True)
    return inserted


def after_events(conn, base: dict) -> dict:
    with conn.transaction():
        for sql in AFTER_EVENTS_SQL:
            conn.execute(sql, base)
    return {
        "warned": conn.execute("SELECT count(*) FROM syn_warned").fetchone()[0],
        "dormant": conn.execute("SELECT count(*) FROM syn_dormant").fetchone()[0],
    }
