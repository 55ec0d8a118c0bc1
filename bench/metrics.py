"""Metrics API latency against a raw aggregate over the events, and the cost of refreshing
rollups after a backlog of new events. Prints figures; asserts nothing.

Builds (once; later runs reuse it) one organization (Asia/Shanghai) with one community of
100,000 members and 10,000,000 `message.posted` raw events over the last 90 local days, a few
check-ins and 100,000 orders, with set-based SQL; builds the rollups with `rollups.rebuild`.
Then, in the same run: the median latency of `GET /api/v1/metrics/communities/<pk>/?window=30`
(and of the overview) through gunicorn, the same figures computed by SQL over the raw tables
(median of a few runs), their ratio (targets: at least 20x, under 50 ms), and the time of
`rollups.refresh` after 1,000,000 new events on the last two local days. Key figures end the
output as `name: value` lines and go to bench/results/metrics.json.

Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench_metrics
(created if missing and migrated).
Run: `uv run python bench/metrics.py [--quick] [--members N --events N --orders N] [--fresh]`
"""

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import ingest_events as server_tools  # noqa: E402 - environment and gunicorn helpers

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qunyun_bench_metrics"
RESULTS = Path(__file__).resolve().parent / "results" / "metrics.json"
TIME_ZONE = "Asia/Shanghai"
EVENT_DAYS = 90  # raw events and orders cover the last 90 local days
JOIN_DAYS = 120  # members joined over the 120 days before the 30-day window
WINDOW = 30
LEAVE_SHARE = 0.20  # members who left since (a fifth of them removed)
# The pseudo-random batch ids of the generated data: the dataset's events, and the late events
# of the refresh phase (deleted again at the start of the next run that reuses the dataset).
BASE_BATCH = uuid.uuid5(uuid.NAMESPACE_URL, "qunyun-bench-metrics-base")
LATE_BATCH = uuid.uuid5(uuid.NAMESPACE_URL, "qunyun-bench-metrics-late")
COMPLETE = "Metrics benchmark"  # the org's name once data and rollups are all there
PRESENT = ("joined", "onboarding", "active", "warned", "dormant")

# A member's daily chance of posting, from a hash of their id (so the late-event phase of a
# later run sees the same people): 0.01 + 0.95 u^3, mean ~0.25; the few with a high chance
# also post more messages on the days they post (weight chance² × an exponential draw), so
# the top tenth of posters writes over half of the messages.
ACTIVITY_SQL = (
    "(0.01 + 0.95 * power(('x' || substr(md5('a' || {id}::text), 1, 8))::bit(32)::bigint"
    " / 4294967296.0, 3))"
)


# --- environment -----------------------------------------------------------------------------


def configure_environment() -> str:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    return server_tools.configure_environment()


def connection_url() -> str:
    return os.environ["DATABASE_URL"]


def libpq_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


class Phases:
    """Wall time of each phase, printed as it ends."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn, *args, **kwargs):
        print(f"[{name}] ...", flush=True)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[name] = time.perf_counter() - t0
        print(f"[{name}] {self.seconds[name]:.1f} s", flush=True)
        return result


def connect(url: str):
    """A psycopg connection for the set-based SQL: system scope for row-level security (no-op
    without it), and FK triggers skipped while generating when we are a superuser."""
    import psycopg

    conn = psycopg.connect(libpq_url(url), autocommit=True)
    conn.execute("SELECT set_config('app.org_id', '0', false)")
    return conn


def is_superuser(conn) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


# --- the dataset ------------------------------------------------------------------------------


def dataset_slug(members: int, events: int, orders: int) -> str:
    return f"bm-{members}-{events}-{orders}"


def find_dataset(slug: str):
    from communities.models import Community
    from tenancy.models import Organization
    from tenancy.scope import org_scope

    org = Organization.objects.filter(slug=slug).first()
    if org is None or org.name != COMPLETE:
        return org, None
    with org_scope(org):
        community = Community.objects.for_org(org).order_by("pk").first()
    return org, community


def purge(url: str, org) -> None:
    """Remove an (incomplete or unwanted) dataset: every tenant row of the org, then the org."""
    with connect(url) as conn:
        if not is_superuser(conn):
            stale = f"bm-stale-{int(time.time())}-{org.pk}"
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
            conn.execute(f'DELETE FROM "{table}" WHERE organization_id = %s', [org.pk])
        conn.execute("DELETE FROM tenancy_organization WHERE id = %s", [org.pk])


def create_org(slug: str):
    from communities import services as community_services
    from tenancy.actors import Actor
    from tenancy.services import organization_create

    org = organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=f"{slug}@bench.example.com",
        time_zone=TIME_ZONE,
    )
    community = community_services.community_create(
        actor=Actor.system(org, "bench"),
        name="健康交流大群",
        kind="general",
        platform="wechat",
        external_id="wx-bench-metrics",
        capacity=100_000,
    )
    return org, community


def bounds(today: date, now: datetime) -> dict:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TIME_ZONE)

    def start(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz)

    window_start = today - timedelta(days=WINDOW - 1)
    return {
        "now": now,
        "tz": TIME_ZONE,
        "window_start_at": start(window_start),
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
                refunded_at, points_awarded, quantity, idempotency_key, request_fingerprint)
            SELECT %(org)s, 'ord-' || g, member_id, %(community)s, amount, '[]', status,
                   placed_at,
                   CASE WHEN status IN ('paid', 'refunded')
                        THEN placed_at + interval '3 minutes' END,
                   CASE WHEN status = 'cancelled' THEN placed_at + interval '10 minutes' END,
                   CASE WHEN status = 'refunded' THEN placed_at + interval '3 days' END,
                   0, 1, '', ''
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


def vacuum(url: str, tables) -> None:
    """What autovacuum would have done by the time anyone reads: statistics for the planner
    and the visibility map for index-only scans."""
    with connect(url) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


def generate(url: str, org, community, args, phases: Phases) -> dict:
    from metrics.days import local_day

    now = datetime.now(UTC).replace(microsecond=0)
    today = local_day(org, now)
    b = bounds(today, now)
    out = {}
    with connect(url) as conn:
        if is_superuser(conn):
            # the rows are consistent by construction: skip the FK triggers while loading
            conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        phases.run(
            "generate members", generate_members, conn, org.pk, community.pk, args.members, b
        )
        with conn.cursor() as cur:
            build_people(cur, org.pk, community.pk)
        out.update(
            phases.run("generate events", generate_events, conn, org.pk, args.events, b, today)
        )
        out["orders"] = phases.run(
            "generate orders", generate_orders, conn, org.pk, community.pk, args.orders, b
        )
    phases.run("vacuum analyze sources", vacuum, url, SOURCE_TABLES)
    print(
        f"  {out['messages']:,} messages in {out['posting_pairs']:,} (member, day) pairs; "
        f"{out['raw_rows'] - out['messages']:,} check-ins; {out['orders']:,} orders; "
        f"the top 10% of posters wrote {100 * out['top10_share']:.0f}% of the messages"
    )
    return out


def rebuild(org, phases: Phases) -> dict:
    from metrics import rollups
    from tenancy.scope import org_scope

    with org_scope(org):
        days = phases.run("rebuild rollups", rollups.rebuild, org)
    print(f"  {days} group-days recomputed")
    phases.run("vacuum analyze rollups", vacuum, connection_url(), ROLLUP_TABLES)
    return {"rebuild_group_days": days}


def dataset_rows(url: str, org) -> dict:
    with connect(url) as conn:

        def count(table, where=""):
            sql = f"SELECT count(*) FROM {table} WHERE organization_id = %s {where}"
            return conn.execute(sql, [org.pk]).fetchone()[0]

        return {
            "rows_members": count("members_member"),
            "rows_message_events": count("members_rawevent", "AND type = 'message.posted'"),
            "rows_other_events": count("members_rawevent", "AND type <> 'message.posted'"),
            "rows_orders": count("campaigns_order"),
            "rows_memberday": count("metrics_memberday"),
            "rows_communityday": count("metrics_communityday"),
            "daily_speaker_share": round(
                conn.execute(
                    "SELECT avg(speakers::float / members_end) FROM metrics_communityday "
                    "WHERE organization_id = %s AND members_end > 0 AND messages > 0",
                    [org.pk],
                ).fetchone()[0]
                or 0,
                3,
            ),
        }


def clean_late_events(url: str, org) -> int:
    """Delete a previous run's late events (if any) and refresh their days, so that a reused
    dataset stays the size it was generated at."""
    from metrics import rollups
    from tenancy.scope import org_scope

    with connect(url) as conn:
        cur = conn.execute(
            """
            WITH gone AS (
                DELETE FROM members_rawevent WHERE organization_id = %s AND batch_id = %s
                RETURNING community_id, (occurred_at AT TIME ZONE %s)::date AS day
            )
            SELECT community_id, day, count(*) FROM gone GROUP BY 1, 2
            """,
            [org.pk, LATE_BATCH, TIME_ZONE],
        )
        rows = cur.fetchall()
    with org_scope(org):
        rollups.mark_days(org, [(c, d) for c, d, _n in rows])
        rollups.refresh(org)  # also anything a crashed run left marked
    return sum(n for _c, _d, n in rows)


# --- timing the API ------------------------------------------------------------------------------


def summarize(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "min_ms": 1000 * ordered[0],
        "max_ms": 1000 * ordered[-1],
        "n": len(ordered),
    }


def time_gets(port: int, raw_key: str, path: str, n: int, warmup: int = 3):
    headers = {"Authorization": f"Bearer {raw_key}", "Accept": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    samples, body, errors = [], None, []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 200:
            errors.append((response.status, data[:300]))
            continue
        if i >= warmup:
            samples.append(elapsed)
        body = data
    conn.close()
    if errors:
        print(f"  {path}: {len(errors)} non-200 responses, first: {errors[0]}")
    if not samples:
        raise SystemExit(f"no successful GET {path}")
    return summarize(samples), json.loads(body), len(body)


def time_window_rates(org, community, window, n: int) -> tuple[dict, list]:
    from metrics.rates import window_rates
    from tenancy.scope import org_scope

    samples = []
    with org_scope(org):
        for i in range(n + 3):
            t0 = time.perf_counter()
            result = window_rates(org, [community.pk], window, window.previous())
            if i >= 3:
                samples.append(time.perf_counter() - t0)
    return summarize(samples), [r[community.pk] for r in result]


# --- the raw baseline ------------------------------------------------------------------------------

RAW_SPEAKERS = """
SELECT count(*) FILTER (WHERE cur), count(*) FILTER (WHERE prev)
FROM (
    SELECT member_id, bool_or(occurred_at >= %(cs)s) AS cur, bool_or(occurred_at < %(cs)s) AS prev
    FROM members_rawevent
    WHERE organization_id = %(org)s AND community_id = %(community)s
      AND type = 'message.posted' AND member_id IS NOT NULL
      AND occurred_at >= %(ps)s AND occurred_at < %(ce)s
    GROUP BY member_id
) s
"""
RAW_BUYERS = """
SELECT count(*) FILTER (WHERE cur >= 1), count(*) FILTER (WHERE cur >= 2),
       count(*) FILTER (WHERE prev >= 1), count(*) FILTER (WHERE prev >= 2)
FROM (
    SELECT member_id, count(*) FILTER (WHERE placed_at >= %(cs)s) AS cur,
           count(*) FILTER (WHERE placed_at < %(cs)s) AS prev
    FROM campaigns_order
    WHERE organization_id = %(org)s AND community_id = %(community)s
      AND status IN ('placed', 'paid') AND placed_at >= %(ps)s AND placed_at < %(ce)s
    GROUP BY member_id
) s
"""

# A membership is in the group at instant T when its last change before T put it there:
# the change's status is present and the next change (if any) is at or after T.
RAW_HEADCOUNT = """
SELECT count(*) FILTER (WHERE present AND (next_at IS NULL OR next_at >= %(ce)s)),
       count(*) FILTER (WHERE present AND created_at < %(cs)s
                               AND (next_at IS NULL OR next_at >= %(cs)s))
FROM (
    SELECT c.created_at, c.to_status = ANY(%(present)s) AS present,
           lead(c.created_at) OVER (PARTITION BY c.membership_id ORDER BY c.created_at, c.id)
           AS next_at
    FROM members_membershipchange c
    JOIN members_membership m ON m.id = c.membership_id
    WHERE c.organization_id = %(org)s AND m.organization_id = %(org)s
      AND m.community_id = %(community)s AND c.created_at < %(ce)s
) s
"""


def raw_params(org, community, window) -> dict:
    from metrics.days import day_bounds

    previous = window.previous()
    ps, _pe = day_bounds(org, previous.start, previous.end)
    cs, ce = day_bounds(org, window.start, window.end)
    return {
        "org": org.pk,
        "community": community.pk,
        "ps": ps,
        "cs": cs,
        "ce": ce,
        "present": list(PRESENT),
    }


def raw_figures(url: str, org, community, window) -> tuple[dict, dict]:
    """The rates' counts for the window and the previous one, straight from the raw tables;
    returns ({"current": {...}, "previous": {...}}, seconds per query)."""
    params = raw_params(org, community, window)
    seconds = {}
    with connect(url) as conn:
        t0 = time.perf_counter()
        speakers, prev_speakers = conn.execute(RAW_SPEAKERS, params).fetchone()
        t1 = time.perf_counter()
        buyers, repeat, prev_buyers, prev_repeat = conn.execute(RAW_BUYERS, params).fetchone()
        t2 = time.perf_counter()
        members, prev_members = conn.execute(RAW_HEADCOUNT, params).fetchone()
        t3 = time.perf_counter()
    seconds = {"speakers": t1 - t0, "buyers": t2 - t1, "headcount": t3 - t2, "total": t3 - t0}
    figures = {
        "current": {
            "members": members,
            "speakers": speakers,
            "buyers": buyers,
            "repeat_buyers": repeat,
        },
        "previous": {
            "members": prev_members,
            "speakers": prev_speakers,
            "buyers": prev_buyers,
            "repeat_buyers": prev_repeat,
        },
    }
    return figures, seconds


def time_raw(url: str, org, community, window, runs: int) -> tuple[dict, dict, dict]:
    totals, parts, figures = [], [], None
    for _ in range(runs):
        figures, seconds = raw_figures(url, org, community, window)
        totals.append(seconds["total"])
        parts.append(seconds)
    median_parts = {
        k: 1000 * statistics.median(p[k] for p in parts)
        for k in ("speakers", "buyers", "headcount")
    }
    return figures, summarize(totals), median_parts


def counts(rates) -> dict:
    return {
        "members": rates.members,
        "speakers": rates.speakers,
        "buyers": rates.buyers,
        "repeat_buyers": rates.repeat_buyers,
    }


def compare_figures(label: str, rollup: dict, raw: dict) -> bool:
    ok = True
    for which in ("current", "previous"):
        a, b = rollup[which], raw[which]
        same = a == b
        ok &= same
        fmt = ", ".join(f"{k} {a[k]:,}" for k in a)
        print(f"  {label} {which:<8} rollups: {fmt}")
        fmt = ", ".join(f"{k} {b[k]:,}" for k in b)
        print(f"  {label} {which:<8} raw:     {fmt}   {'equal' if same else 'MISMATCH'}")
        if not same:
            print(f"MISMATCH ({label}, {which} window): rollups {a} != raw {b}")
    return ok


# --- refresh after new events -----------------------------------------------------------------


def late_events(url: str, org, community, n: int, phases: Phases) -> dict:
    """n new messages over yesterday and today (local), marked as ingestion marks them, then
    one timed `rollups.refresh`."""
    from metrics import rollups
    from metrics.days import local_day
    from tenancy.scope import org_scope

    now = datetime.now(UTC).replace(microsecond=0)
    today = local_day(org, now)
    b = bounds(today, now)
    prefix = f"late{int(time.time())}-"
    with connect(url) as conn:
        conn.execute("SET work_mem = '256MB'")
        with conn.cursor() as cur:
            build_people(cur, org.pk, community.pk)
            cur.execute("SELECT setseed(0.77)")
            allocate(cur, today - timedelta(days=1), today, n, b)

        def insert():
            return insert_days(
                conn,
                org.pk,
                today - timedelta(days=1),
                today,
                prefix=prefix,
                batch=LATE_BATCH,
                checkins=False,
                late=True,
            )

        inserted = phases.run("insert late events", insert)

        def pairs():
            return conn.execute(
                """
                SELECT DISTINCT community_id, (occurred_at AT TIME ZONE %s)::date
                FROM members_rawevent WHERE organization_id = %s AND batch_id = %s
                """,
                [TIME_ZONE, org.pk, LATE_BATCH],
            ).fetchall()

        marked = phases.run("find the late events' days", pairs)
    with org_scope(org):
        rollups.mark_days(org, marked)
        done = phases.run("refresh rollups", rollups.refresh, org)
    print(f"  {inserted:,} new events; {len(marked)} group-days marked; {done} recomputed")
    return {"late_events": inserted, "marked": len(marked), "recomputed": done}


# --- profiling --------------------------------------------------------------------------------------


def profile_request(raw_key: str, path: str, url: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    for _ in range(3):
        client.get(path)  # warm up this process
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        client.get(path)
        plain = time.perf_counter() - t0
    captured = list(queries.captured_queries)  # the next request resets the log
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path)
    profiler.disable()
    sql_ms = 1000 * sum(float(q["time"]) for q in captured)
    print(f"\n--- profile of GET {path} in-process ---")
    print(
        f"one request {1000 * plain:.1f} ms, {len(captured)} queries, {sql_ms:.1f} ms in SQL "
        "(Django's timer: driver round trip and fetch)"
    )
    for q in sorted(captured, key=lambda q: -float(q["time"]))[:10]:
        print(f"  {1000 * float(q['time']):7.1f} ms  {q['sql'][:150]}")
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    print(stream.getvalue())
    print("--- EXPLAIN ANALYZE of the slowest SELECTs ---")
    with connect(url) as conn:
        slowest = sorted(captured, key=lambda q: -float(q["time"]))
        shown = 0
        for q in slowest:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "set_config" in sql:
                continue
            print(f"\n{1000 * float(q['time']):.1f} ms: {sql[:300]}")
            try:
                for (line,) in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql):
                    print("   ", line)
            except Exception as exc:  # a query Django logged with un-replayable literals
                print(f"    (could not explain: {exc})")
            shown += 1
            if shown == 4:
                break


# --- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="message events")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--late", type=int, default=None, help="new events (default 1,000,000)")
    parser.add_argument(
        "--quick", action="store_true", help="10,000 members, 1,000,000 events, 10,000 orders"
    )
    parser.add_argument("--requests", type=int, default=50, help="timed GETs per endpoint")
    parser.add_argument("--raw-runs", type=int, default=3, help="runs of the raw aggregate")
    parser.add_argument("--fresh", action="store_true", help="regenerate the dataset")
    parser.add_argument("--rebuild", action="store_true", help="rebuild rollups on a reused one")
    parser.add_argument("--profile", action="store_true", help="profile even if targets are met")
    parser.add_argument("--json-out", type=Path, default=RESULTS, help=f"default {RESULTS.name}")
    args = parser.parse_args()
    if args.quick:
        args.members, args.events, args.orders = 10_000, 1_000_000, 10_000
    if args.late is None:
        args.late = 100_000 if args.quick else 1_000_000
    if min(args.members, args.events, args.orders, args.late, args.requests, args.raw_runs) < 1:
        parser.error("every count must be at least 1")

    url = configure_environment()
    server_tools.ensure_database(url)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from metrics.windows import Window
    from tenancy.actors import Actor
    from tenancy.scope import org_scope
    from tenancy.services import api_key_create

    if connection.vendor != "postgresql":
        sys.exit(f"This benchmark needs PostgreSQL, not {connection.vendor}.")
    phases = Phases()
    phases.run("migrate", call_command, "migrate", verbosity=0)

    slug = dataset_slug(args.members, args.events, args.orders)
    org, community = find_dataset(slug)
    reused = community is not None and not args.fresh
    generated = {}
    rollup_rows = {}
    if not reused:
        if org is not None:
            phases.run("purge old dataset", purge, url, org)
        org, community = create_org(slug)
        generated = generate(url, org, community, args, phases)
        rollup_rows = rebuild(org, phases)
        org.name = COMPLETE
        org.save(update_fields=["name"])
    else:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        removed = phases.run("clean previous late events", clean_late_events, url, org)
        print(f"  {removed:,} late events of a previous run removed")
        if args.rebuild:
            rollup_rows = rebuild(org, phases)

    rows = dataset_rows(url, org)
    print("  " + ", ".join(f"{k.removeprefix('rows_')} {v:,}" for k, v in rows.items()))
    with org_scope(org):
        _key, raw_key = api_key_create(
            actor=Actor.system(org, "bench"), name=f"metrics bench {int(time.time())}"
        )
    connection.close()
    community_path = f"/api/v1/metrics/communities/{community.pk}/?window={WINDOW}"
    overview_path = f"/api/v1/metrics/overview/?window={WINDOW}"

    port = server_tools.free_port()
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        proc = server_tools.start_server(port, log)
        try:
            server_tools.wait_healthy(proc, port, log.name)
            api, body, size = phases.run(
                "GET community", time_gets, port, raw_key, community_path, args.requests
            )
            overview, _body, overview_size = phases.run(
                "GET overview", time_gets, port, raw_key, overview_path, args.requests
            )
        finally:
            server_tools.stop_server(proc)

    window = Window(
        date.fromisoformat(body["window"]["start"]), date.fromisoformat(body["window"]["end"])
    )
    rates_time, (current, previous) = phases.run(
        "window_rates in-process", time_window_rates, org, community, window, args.requests
    )
    raw, raw_time, raw_parts = phases.run(
        "raw aggregate", time_raw, url, org, community, window, args.raw_runs
    )
    api_counts = {k: body["rates"][k] for k in ("members", "speakers", "buyers", "repeat_buyers")}
    rollup = {"current": counts(current), "previous": counts(previous)}
    print(
        f"\nwindow {window.start} .. {window.end} (and {window.previous().start} .. "
        f"{window.previous().end}), community {community.pk}"
    )
    agree = compare_figures("before refresh", rollup, raw)
    if api_counts != rollup["current"]:
        agree = False
        print(f"MISMATCH: the API says {api_counts}, window_rates {rollup['current']}")

    refresh = late_events(url, org, community, args.late, phases)
    _t, (current, previous) = time_window_rates(org, community, window, 1)
    raw_after, _s = raw_figures(url, org, community, window)
    agree_after = compare_figures(
        "after refresh", {"current": counts(current), "previous": counts(previous)}, raw_after
    )

    ratio = raw_time["median_ms"] / api["median_ms"]
    meets_ratio = ratio >= 20
    meets_latency = api["median_ms"] < 50
    results = {
        "dataset": slug,
        "reused": reused,
        "members": args.members,
        "message_events": args.events,
        "orders": args.orders,
        **{f"generated_{k}": v for k, v in generated.items()},
        **rollup_rows,
        **rows,
        "window": window.key,
        "api_community_median_ms": round(api["median_ms"], 2),
        "api_community_p95_ms": round(api["p95_ms"], 2),
        "api_community_bytes": size,
        "api_overview_median_ms": round(overview["median_ms"], 2),
        "api_overview_p95_ms": round(overview["p95_ms"], 2),
        "api_overview_bytes": overview_size,
        "window_rates_median_ms": round(rates_time["median_ms"], 3),
        "window_rates_p95_ms": round(rates_time["p95_ms"], 3),
        "raw_median_ms": round(raw_time["median_ms"], 1),
        "raw_runs": args.raw_runs,
        **{f"raw_{k}_ms": round(v, 1) for k, v in raw_parts.items()},
        "ratio_raw_over_api": round(ratio, 1),
        "target_20x": meets_ratio,
        "target_50ms": meets_latency,
        "figures_agree": agree,
        "late_events": refresh["late_events"],
        "refresh_group_days": refresh["recomputed"],
        "refresh_s": round(phases.seconds["refresh rollups"], 2),
        "figures_agree_after_refresh": agree_after,
        **{f"phase_{k.replace(' ', '_')}_s": round(v, 1) for k, v in phases.seconds.items()},
        "load_average": os.getloadavg()[0],
    }
    print(
        f"\nAPI community  median {api['median_ms']:.1f} ms, p95 {api['p95_ms']:.1f} ms "
        f"({size / 1000:.0f} kB)\n"
        f"API overview   median {overview['median_ms']:.1f} ms, p95 {overview['p95_ms']:.1f} ms\n"
        f"window_rates   median {rates_time['median_ms']:.2f} ms in-process\n"
        f"raw aggregate  median {raw_time['median_ms']:.0f} ms of {args.raw_runs} runs "
        f"(speakers {raw_parts['speakers']:.0f}, buyers {raw_parts['buyers']:.0f}, "
        f"headcount {raw_parts['headcount']:.0f})\n"
        f"ratio raw ÷ API {ratio:.1f}x: 20x target {'met' if meets_ratio else 'MISSED'}; "
        f"50 ms target {'met' if meets_latency else 'MISSED'}\n"
        f"refresh        {phases.seconds['refresh rollups']:.1f} s for {refresh['late_events']:,} "
        f"new events ({refresh['recomputed']} group-days)"
    )
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2, default=str) + "\n")

    print("\n--- summary ---")
    for name, value in results.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{name}: {value}")
    print(f"(written to {args.json_out})")

    if args.profile or not (meets_ratio and meets_latency):
        try:
            profile_request(raw_key, community_path, url)
        except Exception as exc:  # the figures above stand; say why the profile is missing
            print(f"profile failed: {exc!r}")


if __name__ == "__main__":
    main()
