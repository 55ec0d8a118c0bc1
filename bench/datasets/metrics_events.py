"""The metrics dataset's raw events: each member of the group posts on a day with a chance of
their own (from a hash of their id, so a later run sees the same people), exactly `total`
messages shared among the posting (member, day) pairs, inserted day by day in time order; and
the late events of the refresh phase (yesterday and today, deleted again by the next run)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.lib import app, db

TIME_ZONE = "Asia/Shanghai"
EVENT_DAYS = 90  # raw events and orders cover the last 90 local days
WINDOW = 30
# The pseudo-random batch ids of the generated data: the dataset's events, and the late events
# of the refresh phase (deleted again at the start of the next run that reuses the dataset).
BASE_BATCH = uuid.uuid5(uuid.NAMESPACE_URL, "qunyun-bench-metrics-base")
LATE_BATCH = uuid.uuid5(uuid.NAMESPACE_URL, "qunyun-bench-metrics-late")

# A member's daily chance of posting, from a hash of their id (so the late-event phase of a
# later run sees the same people): 0.01 + 0.95 u^3, mean ~0.25; the few with a high chance
# also post more messages on the days they post (weight chance² × an exponential draw), so
# the top tenth of posters writes over half of the messages.
ACTIVITY_SQL = (
    "(0.01 + 0.95 * power(('x' || substr(md5('a' || {id}::text), 1, 8))::bit(32)::bigint"
    " / 4294967296.0, 3))"
)


def bounds(today: date, now: datetime) -> dict:
    tz = ZoneInfo(TIME_ZONE)

    def start(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz)

    return {
        "now": now,
        "tz": TIME_ZONE,
        "window_start_at": start(today - timedelta(days=WINDOW - 1)),
        "events_from": today - timedelta(days=EVENT_DAYS - 1),
        "events_from_at": start(today - timedelta(days=EVENT_DAYS - 1)),
    }


def build_people(cur, org_id: int, community_id: int) -> int:
    """A session table of the community's people: membership interval and daily activity."""
    cur.execute("DROP TABLE IF EXISTS bench_people")
    cur.execute(
        f"""
        CREATE TEMP TABLE bench_people AS
        SELECT row_number() OVER (ORDER BY member_id) AS idx, member_id, community_id,
               joined_at AS join_at, left_at AS leave_at, {ACTIVITY_SQL.format(id="member_id")}
               AS activity
        FROM members_membership WHERE organization_id = %s AND community_id = %s
        """,
        [org_id, community_id],
    )
    cur.execute("CREATE INDEX ON bench_people (idx)")
    cur.execute("ANALYZE bench_people")
    return cur.execute("SELECT count(*) FROM bench_people").fetchone()[0]


def allocate(cur, first: date, last: date, total: int, b: dict) -> tuple[int, int]:
    """bench_alloc: (member, day) pairs of posting, each present member posting on a day with
    their daily chance, and exactly `total` messages shared among the pairs in proportion to a
    weight (activity × an exponential draw), at least one each. Returns (pairs, messages)."""
    cur.execute("DROP TABLE IF EXISTS bench_pairs")
    cur.execute("DROP TABLE IF EXISTS bench_alloc")
    params = {"first": first, "last": last, "tz": b["tz"], "now": b["now"]}
    scale = 1.0
    for _attempt in range(3):
        cur.execute("DROP TABLE IF EXISTS bench_pairs")
        cur.execute(
            """
            CREATE TEMP TABLE bench_pairs AS
            SELECT member_id, community_id, day, day_at, lo, hi,
                   activity * activity * -ln(1 - random()) AS w
            FROM (
            -- random() in the select list of a subquery: drawn per (member, day); in a WHERE
            -- on p alone the planner would push it down to bench_people, once per member
            SELECT p.member_id, p.community_id, d.day, d.day_at, p.activity,
                   greatest(d.day_at, p.join_at) AS lo,
                   least(d.end_at, coalesce(p.leave_at, 'infinity')) AS hi, random() AS r
            FROM bench_people p
            JOIN (
                SELECT day, day::timestamp AT TIME ZONE %(tz)s AS day_at,
                       least((day + 1)::timestamp AT TIME ZONE %(tz)s, %(now)s) AS end_at
                FROM (
                    SELECT %(first)s::date + i AS day
                    FROM generate_series(0, %(last)s::date - %(first)s::date) i
                ) days
            ) d ON p.join_at < d.end_at AND (p.leave_at IS NULL OR p.leave_at > d.day_at)
            ) candidates
            WHERE r < activity * %(scale)s
            """,
            {**params, "scale": scale},
        )
        pairs, weight = cur.execute("SELECT count(*), sum(w) FROM bench_pairs").fetchone()
        if pairs <= total:
            break
        scale *= 0.5 * total / pairs  # fewer events than posting pairs: thin the pairs
    k = (total - pairs + 0.5) / weight
    cur.execute(
        """
        CREATE TEMP TABLE bench_alloc AS
        SELECT pair, member_id, community_id, day, day_at, lo, hi,
               (floor(c * %(k)s) - floor(coalesce(lag(c) OVER (ORDER BY pair), 0) * %(k)s)
                + 1)::int AS n
        FROM (
            SELECT row_number() OVER w AS pair, *, sum(w) OVER w AS c
            FROM bench_pairs
            WINDOW w AS (ORDER BY day, member_id ROWS UNBOUNDED PRECEDING)
        ) s
        """,
        {"k": k},
    )
    cur.execute("CREATE INDEX ON bench_alloc (day)")
    cur.execute("DROP TABLE bench_pairs")
    return pairs, cur.execute("SELECT sum(n) FROM bench_alloc").fetchone()[0]


# One day's messages (and check-ins, about one in twelve posting pairs) in time order: a
# local time of day mostly between 07:00 and 23:00, kept inside the member's presence that day.
INSERT_DAY = """
INSERT INTO members_rawevent (organization_id, client_event_id, type, occurred_at, received_at,
    batch_id, api_key_id, community_id, member_id, payload)
SELECT %(org)s, id, type, t, {received}, %(batch)s, NULL, community_id, member_id, payload
FROM (
    SELECT %(prefix)s || 'm' || a.pair || '-' || e.i AS id, 'message.posted' AS type,
           a.community_id, a.member_id, e.t, '{{"kind": "text"}}'::jsonb AS payload
    FROM bench_alloc a
    CROSS JOIN LATERAL (
        SELECT i, CASE WHEN c >= a.lo AND c < a.hi THEN c
                       ELSE a.lo + random() * (a.hi - a.lo) END AS t
        FROM (
            SELECT i, a.day_at + CASE WHEN random() < 0.75
                                      THEN interval '7 hours' + random() * interval '16 hours'
                                      ELSE random() * interval '24 hours' END AS c
            FROM generate_series(1, a.n) i
        ) g
    ) e
    WHERE a.day = %(day)s
    UNION ALL
    SELECT %(prefix)s || 'c' || a.pair, 'member.checked_in', a.community_id, a.member_id,
           a.lo + random() * (a.hi - a.lo), '{{}}'::jsonb
    FROM bench_alloc a
    WHERE a.day = %(day)s AND %(checkins)s AND random() < 0.08
) x
ORDER BY t
"""


def insert_days(conn, org_id: int, first: date, last: date, *, prefix, batch, checkins, late):
    received = "%(now)s::timestamptz" if late else "t + random() * interval '5 seconds'"
    sql = INSERT_DAY.format(received=received)
    inserted = 0
    day = first
    while day <= last:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                sql,
                {
                    "org": org_id,
                    "day": day,
                    "prefix": prefix,
                    "batch": batch,
                    "checkins": checkins,
                    "now": datetime.now(UTC),
                },
            )
            inserted += cur.rowcount
        day += timedelta(days=1)
    return inserted


def generate_events(conn, org_id: int, total: int, b: dict, today: date) -> dict:
    app.raw_event_months(b["events_from_at"].astimezone(UTC), today)  # as the job would
    with conn.cursor() as cur:
        cur.execute("SELECT setseed(0.1121)")
        pairs, messages = allocate(cur, b["events_from"], today, total, b)
        skew = cur.execute(
            """
            SELECT sum(n) FILTER (WHERE rank <= greatest(1, posters / 10))::float / sum(n)
            FROM (
                SELECT sum(n) AS n, row_number() OVER (ORDER BY sum(n) DESC) AS rank,
                       count(*) OVER () AS posters
                FROM bench_alloc GROUP BY member_id
            ) s
            """
        ).fetchone()[0]
    inserted = insert_days(
        conn,
        org_id,
        b["events_from"],
        today,
        prefix="",
        batch=BASE_BATCH,
        checkins=True,
        late=False,
    )
    return {
        "posting_pairs": pairs,
        "messages": messages,
        "raw_rows": inserted,
        "top10_share": skew,
    }


def add_late_events(org, community, n: int, phases) -> tuple[int, list]:
    """n new messages over yesterday and today (local); returns (rows, their (group, day)
    pairs), for the caller to mark and refresh as ingestion would."""
    now = datetime.now(UTC).replace(microsecond=0)
    today = app.local_day(org, now)
    b = bounds(today, now)
    prefix = f"late{int(time.time())}-"
    with db.connect() as conn:
        conn.execute("SET work_mem = '256MB'")
        with conn.cursor() as cur:
            build_people(cur, org.pk, community.pk)
            cur.execute("SELECT setseed(0.77)")
            allocate(cur, today - timedelta(days=1), today, n, b)
        yesterday = today - timedelta(days=1)
        inserted = phases.run(
            "insert late events",
            insert_days,
            conn,
            org.pk,
            yesterday,
            today,
            prefix=prefix,
            batch=LATE_BATCH,
            checkins=False,
            late=True,
        )
        marked = phases.run(
            "find the late events' days",
            lambda: conn.execute(
                """
                SELECT DISTINCT community_id, (occurred_at AT TIME ZONE %s)::date
                FROM members_rawevent WHERE organization_id = %s AND batch_id = %s
                """,
                [TIME_ZONE, org.pk, LATE_BATCH],
            ).fetchall(),
        )
    return inserted, marked


def remove_late_events(org) -> tuple[int, list]:
    """Delete a previous run's late events (if any): returns (rows, their (group, day) pairs)."""
    with db.connect() as conn:
        rows = conn.execute(
            """
            WITH gone AS (
                DELETE FROM members_rawevent WHERE organization_id = %s AND batch_id = %s
                RETURNING community_id, (occurred_at AT TIME ZONE %s)::date AS day
            )
            SELECT community_id, day, count(*) FROM gone GROUP BY 1, 2
            """,
            [org.pk, LATE_BATCH, TIME_ZONE],
        ).fetchall()
    return sum(n for _c, _d, n in rows), [(c, d) for c, d, _n in rows]
