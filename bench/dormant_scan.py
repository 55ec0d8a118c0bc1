"""The dormant scan over 1,000,000 memberships against a bare UPDATE of the same rows, and the
scan as a Celery worker runs it. Prints figures; asserts nothing.

    uv run python bench/dormant_scan.py                    # 1,000,000 memberships (issue #9)
    uv run python bench/dormant_scan.py --scale small      # 100,000
    uv run python bench/dormant_scan.py --memberships 300000 --runs 5 --no-celery

Builds (once; later runs reuse it) an organization of its own in the bench database
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench) with set-based SQL:
members each in five of the groups (groups of about 5,000), their `joined` history, and a
last activity spread as in a real group: 15% never spoke, the others last spoke an
exponential number of days ago (mean 12), 10% already dormant, 5% gone. The groups' rules
say dormant after 7, 14 or 30 days of silence (a third each), so the scan runs three UPDATEs.

Then, alternately, `--runs` times each, on the same rows and the same `now`, each inside a
transaction that is rolled back (and a VACUUM between runs, so no run pays for the previous
one's dead rows):

- `members.jobs.mark_dormant(org, now)` as the Celery task runs it (in the organization's
  scope): per threshold an INSERT … SELECT of the history rows and the guarded UPDATE;
- the raw baseline: the bare `UPDATE members_membership SET status = 'dormant' … WHERE
  last_active_at < cutoff …` per threshold, over psycopg, without the history.

Both counts must agree (a MISMATCH line otherwise). Then (unless `--no-celery`) one real
Celery worker (`-Q default,metrics,delivery,imports`, Redis db 10) runs the task
`members.tasks.scan_dormant`, which also sends the reminders (one outbox action per dormant
member due one); the time from enqueueing to the worker's "succeeded" line and the worker's
peak memory are printed, and the dataset is put back as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import stack  # noqa: E402
import synthetic  # noqa: E402

COMPLETE = "Dormant scan benchmark"
GROUP_SIZE = 5000
PER_MEMBER = 5  # memberships per member
THRESHOLDS = (7, 14, 30)
AWAKE = ["joined", "onboarding", "active", "warned"]

MEMBERS_SQL = [
    """
    CREATE TEMP TABLE dm_members AS
    SELECT g AS m,
           nextval(pg_get_serial_sequence('members_member', 'id')) AS member_id,
           nextval(pg_get_serial_sequence('members_memberidentity', 'id')) AS identity_id,
           floor(random() * %(c)s)::int AS k0
    FROM generate_series(1, %(n)s) g
    """,
    """
    INSERT INTO members_member (id, organization_id, display_name, name_card, tags, notes, phone,
        points_balance, first_seen_at)
    SELECT member_id, %(org)s, '成员' || m, '', '[]', '', '', 0, %(now)s FROM dm_members ORDER BY m
    """,
    """
    INSERT INTO members_memberidentity (id, organization_id, member_id, platform, external_user_id,
        display_name, first_seen_at)
    SELECT identity_id, %(org)s, member_id, 'wechat', 'wxid_dm_' || m, '成员' || m, %(now)s
    FROM dm_members ORDER BY m
    """,
    # each member in PER_MEMBER distinct groups (c >= PER_MEMBER, step c / PER_MEMBER)
    """
    CREATE TEMP TABLE dm_ms AS
    SELECT nextval(pg_get_serial_sequence('members_membership', 'id')) AS id, member_id,
           identity_id, community_id, joined_at,
           CASE WHEN r < 0.05 THEN 'left' WHEN r < 0.15 THEN 'dormant'
                WHEN joined_at > %(now)s::timestamptz - interval '1 day' THEN 'joined'
                WHEN joined_at > %(now)s::timestamptz - interval '3 days' THEN 'onboarding'
                WHEN r < 0.17 THEN 'warned' ELSE 'active' END AS status,
           CASE WHEN r < 0.05 THEN joined_at + random() * (%(now)s::timestamptz - joined_at) END
               AS left_at,
           CASE WHEN r >= 0.05 AND r < 0.15 THEN greatest(joined_at, %(now)s::timestamptz
                     - (40 + random() * 200) * interval '1 day')
                WHEN random() < 0.15 THEN NULL
                ELSE greatest(joined_at, %(now)s::timestamptz
                     + ln(1 - random()) * 12 * interval '1 day') END AS last_active_at
    FROM (
        SELECT member_id, identity_id,
               (%(communities)s::bigint[])[1 + (k0 + k * (%(c)s / %(per)s)) %% %(c)s]
                   AS community_id,
               %(now)s::timestamptz - random() * interval '365 days' AS joined_at, random() AS r
        FROM dm_members CROSS JOIN generate_series(0, %(per)s - 1) k
    ) s
    """,
    """
    INSERT INTO members_membership (id, organization_id, community_id, member_id, identity_id,
        status, joined_at, left_at, churn_reason, last_active_at, message_count, flood_count,
        name_card_ok, reminders_sent, flags, dormant_since)
    SELECT id, %(org)s, community_id, member_id, identity_id, status, joined_at, left_at,
           CASE WHEN status = 'left' THEN 'other' ELSE '' END, last_active_at,
           CASE WHEN last_active_at IS NULL THEN 0 ELSE 1 + floor(random() * 200)::int END, 0,
           true, 0, '[]',
           CASE WHEN status = 'dormant' THEN last_active_at + interval '30 days' END
    FROM dm_ms ORDER BY joined_at
    """,
    """
    INSERT INTO members_membershipchange (organization_id, membership_id, from_status, to_status,
        reason, actor_label, created_at)
    SELECT %(org)s, id, from_status, to_status, reason, 'generated', at
    FROM (
        SELECT id, '' AS from_status, 'joined' AS to_status, '' AS reason, joined_at AS at
        FROM dm_ms
        UNION ALL
        SELECT id, 'active', status, '', coalesce(left_at, last_active_at + interval '30 days')
        FROM dm_ms WHERE status IN ('left', 'dormant')
    ) c ORDER BY at
    """,
]

RESET_SQL = [
    # what a previous Celery run changed: its history rows, statuses, reminders
    """
    UPDATE members_membership m SET status = c.from_status, dormant_since = NULL
    FROM members_membershipchange c
    WHERE m.organization_id = %(org)s AND c.organization_id = %(org)s
      AND c.actor_label = 'dormant scan' AND c.membership_id = m.id
    """,
    """
    DELETE FROM members_membershipchange
    WHERE organization_id = %(org)s AND actor_label = 'dormant scan'
    """,
    "DELETE FROM integrations_action WHERE organization_id = %(org)s",
    """
    UPDATE members_membership SET reminders_sent = 0, last_reminded_at = NULL
    WHERE organization_id = %(org)s AND (reminders_sent > 0 OR last_reminded_at IS NOT NULL)
    """,
]

RAW_UPDATE = """
UPDATE members_membership SET status = 'dormant', dormant_since = %(now)s
WHERE organization_id = %(org)s AND community_id = ANY(%(groups)s) AND status = ANY(%(awake)s)
  AND (last_active_at < %(cutoff)s OR (last_active_at IS NULL AND joined_at < %(cutoff)s))
"""


def create(url: str, slug: str, memberships: int) -> object:
    from communities import services as community_services
    from tenancy.actors import Actor
    from tenancy.scope import org_scope
    from tenancy.services import organization_create

    members = max(1, memberships // PER_MEMBER)
    groups = max(PER_MEMBER, round(memberships / GROUP_SIZE))
    org = organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=f"{slug}@bench.example.com",
        time_zone=synthetic.TIME_ZONE,
    )
    system = Actor.system(org, "bench")
    ids = []
    with org_scope(org):
        for i in range(groups):
            ids.append(
                community_services.community_create(
                    actor=system,
                    name=f"沉睡测试{i + 1}群",
                    external_id=f"wx-dm-{i:04d}",
                    capacity=min(100_000, 2 * GROUP_SIZE),
                ).pk
            )
    now = datetime.now(UTC)
    params = {
        "org": org.pk,
        "n": members,
        "c": groups,
        "per": PER_MEMBER,
        "communities": ids,
        "now": now,
    }
    with synthetic.connect(url) as conn:
        if synthetic.is_superuser(conn):
            conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SELECT setseed(0.77)")
        with conn.transaction():
            for sql in MEMBERS_SQL:
                conn.execute(sql, params)
            # a third of the groups each: dormant after 7, 14 or 30 days
            for i, days in enumerate(THRESHOLDS):
                conn.execute(
                    "UPDATE communities_communityrules SET dormant_after_days = %s "
                    "WHERE organization_id = %s AND community_id = ANY(%s)",
                    [days, org.pk, ids[i :: len(THRESHOLDS)]],
                )
    vacuum(url)
    org.name = COMPLETE
    org.save(update_fields=["name"])
    return org


def vacuum(url: str) -> None:
    with synthetic.connect(url) as conn:
        for table in ("members_membership", "members_membershipchange", "integrations_action"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def reset(url: str, org_id: int) -> None:
    with synthetic.connect(url) as conn, conn.transaction():
        for sql in RESET_SQL:
            conn.execute(sql, {"org": org_id})


def thresholds(org) -> dict[int, list[int]]:
    from communities.models import CommunityRules
    from tenancy.scope import org_scope

    groups: dict[int, list[int]] = {}
    with org_scope(org):
        for community_id, days in CommunityRules.objects.for_org(org).values_list(
            "community_id", "dormant_after_days"
        ):
            groups.setdefault(days, []).append(community_id)
    return groups


def run_job(org, now) -> tuple[float, int]:
    """`mark_dormant` as the task runs it, in a transaction rolled back afterwards."""
    from django.db import connection, transaction

    from members.jobs import mark_dormant
    from tenancy.scope import org_scope

    with org_scope(org), transaction.atomic():
        t0 = time.perf_counter()
        count = mark_dormant(org, now)
        seconds = time.perf_counter() - t0
        transaction.set_rollback(True)
    connection.close()
    return seconds, count


def run_raw(url: str, org, groups: dict, now) -> tuple[float, int]:
    """The bare UPDATE per threshold, in a transaction rolled back afterwards."""
    from datetime import timedelta

    count = 0
    with synthetic.connect(url) as conn:
        conn.execute("BEGIN")
        t0 = time.perf_counter()
        for days, ids in groups.items():
            cur = conn.execute(
                RAW_UPDATE,
                {
                    "org": org.pk,
                    "groups": ids,
                    "awake": AWAKE,
                    "cutoff": now - timedelta(days=days),
                    "now": now,
                },
            )
            count += cur.rowcount
        seconds = time.perf_counter() - t0
        conn.execute("ROLLBACK")
    return seconds, count


def celery_run(url: str, org) -> dict:
    """Enqueue `members.tasks.scan_dormant` on Redis db 10 and time a real worker doing it."""
    from celery import Celery

    stack.flush_bench_redis()
    with tempfile.NamedTemporaryFile("w+", prefix="bench-celery-", suffix=".log") as log:
        path = Path(log.name)
        worker = stack.start_celery_worker(log)
        try:
            stack.wait_for_log(path, "ready.", worker, timeout=120)
            # this process's CELERY_BROKER_URL (memory://) would win over a broker argument
            os.environ["CELERY_BROKER_URL"] = stack.BENCH_REDIS_URL
            producer = Celery("bench", broker=stack.BENCH_REDIS_URL, set_as_current=False)
            producer.conf.task_serializer = "json"
            t0 = time.perf_counter()
            result = producer.send_task(
                "members.tasks.scan_dormant", args=[org.pk], queue="default"
            )
            pattern = re.compile(
                rf"Task members\.tasks\.scan_dormant\[{result.id}\] "
                r"succeeded in ([0-9.]+)s: (\{.*\})"
            )
            deadline = time.monotonic() + 3600
            match = None
            while time.monotonic() < deadline and worker.poll() is None:
                match = pattern.search(path.read_text(errors="replace"))
                if match:
                    break
                if f"scan_dormant[{result.id}] raised" in path.read_text(errors="replace"):
                    break
                time.sleep(0.1)
            wall = time.perf_counter() - t0
            memory = stack.memory_kb(worker.pid)
            producer.close()
        finally:
            stack.stop(worker, timeout=60)
        if not match:
            raise SystemExit(
                "the Celery worker did not finish the scan:\n" + path.read_text()[-3000:]
            )
    returned = json.loads(match.group(2).replace("'", '"'))
    return {
        "celery_wall_s": round(wall, 2),
        "celery_task_s": round(float(match.group(1)), 2),
        "celery_dormant": returned["dormant"],
        "celery_reminded": returned["reminded"],
        "celery_worker_peak_rss_mb": round(memory.get("VmHWM", 0) / 1024, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=synthetic.SCALES, default="default")
    parser.add_argument("--memberships", type=int, help="overrides the scale's count")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each, alternating")
    parser.add_argument("--fresh", action="store_true", help="generate the dataset again")
    parser.add_argument("--no-celery", action="store_true", help="skip the real worker run")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    n = args.memberships or synthetic.SCALES[args.scale].dormant_memberships
    if n < PER_MEMBER * 10 or args.runs < 1:
        parser.error(f"--memberships at least {PER_MEMBER * 10}, --runs at least 1")

    started = time.perf_counter()
    url = synthetic.setup_django()
    from tenancy.models import Organization

    slug = f"dormant-{n}"
    phases = synthetic.Phases()
    org = Organization.objects.filter(slug=slug).first()
    reused = org is not None and org.name == COMPLETE and not args.fresh
    if reused:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        phases.run("reset a previous run's changes", reset, url, org.pk)
    else:
        if org is not None:
            phases.run("purge old dataset", synthetic.purge, url, org)
        org = phases.run("generate", create, url, slug, n)
    phases.run("vacuum", vacuum, url)
    groups = thresholds(org)
    with synthetic.connect(url) as conn:
        rows, awake = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = ANY(%s)) FROM members_membership "
            "WHERE organization_id = %s",
            [AWAKE, org.pk],
        ).fetchone()
    print(f"  {rows:,} memberships ({awake:,} awake) in {sum(map(len, groups.values()))} groups")

    now = datetime.now(UTC)
    job_times, raw_times, job_counts, raw_counts = [], [], [], []
    for i in range(args.runs):
        seconds, count = run_raw(url, org, groups, now)
        raw_times.append(seconds)
        raw_counts.append(count)
        vacuum(url)
        print(f"  run {i + 1}: bare UPDATE   {seconds:7.2f} s  {count:,} rows", flush=True)
        seconds, count = run_job(org, now)
        job_times.append(seconds)
        job_counts.append(count)
        vacuum(url)
        print(f"  run {i + 1}: mark_dormant  {seconds:7.2f} s  {count:,} rows", flush=True)
    agree = len(set(job_counts + raw_counts)) == 1
    job, raw = statistics.median(job_times), statistics.median(raw_times)
    results = {
        "memberships": rows,
        "awake": awake,
        "groups": sum(map(len, groups.values())),
        "thresholds_days": sorted(groups),
        "reused": reused,
        "runs": args.runs,
        "marked": job_counts[0],
        "dormant_share": round(job_counts[0] / awake, 3) if awake else 0,
        "job_median_s": round(job, 3),
        "raw_median_s": round(raw, 3),
        "ratio_job_over_raw": round(job / raw, 2),
        "counts_agree": agree,
    }
    if not args.no_celery:
        figures = phases.run("scan_dormant on a Celery worker", celery_run, url, org)
        results.update(figures)
        phases.run("put the dataset back", reset, url, org.pk)
    results["phases_s"] = phases.seconds
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average"] = round(os.getloadavg()[0], 2)

    print(
        f"\nmemberships              {rows:>10,}   ({awake:,} awake, thresholds {sorted(groups)} days)"
    )
    print(
        f"marked dormant           {job_counts[0]:>10,}   "
        f"({100 * results['dormant_share']:.0f}% of the awake)"
    )
    print(f"mark_dormant (median)    {job:>10.2f} s  UPDATE + INSERT … SELECT of the history")
    print(f"bare UPDATE (median)     {raw:>10.2f} s  the raw baseline, same rows")
    print(f"ratio job ÷ raw          {job / raw:>10.2f}×")
    print(
        f"counts                   {'agree' if agree else 'MISMATCH'}: job {job_counts}, raw {raw_counts}"
    )
    if "celery_wall_s" in results:
        print(
            f"Celery scan_dormant      {results['celery_wall_s']:>10.2f} s  enqueue to done "
            f"(task {results['celery_task_s']} s): {results['celery_dormant']:,} dormant, "
            f"{results['celery_reminded']:,} reminders; worker peak "
            f"{results['celery_worker_peak_rss_mb']} MB"
        )
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
