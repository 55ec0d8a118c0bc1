"""The dormant scan over 1,000,000 memberships against a bare UPDATE of the same rows, and the
scan as a Celery worker runs it. Prints figures; asserts nothing.

    uv run python bench/dormant_scan.py                    # 1,000,000 memberships (issue #9)
    uv run python bench/dormant_scan.py --scale small      # 100,000
    uv run python bench/dormant_scan.py --memberships 300000 --runs 5 --no-celery

Builds (once; later runs reuse it) an organization of its own in the bench database
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench; see
bench/datasets/dormant.py): members each in five of the groups, a last activity spread as in a
real group; the groups' rules say dormant after 7, 14 or 30 days of silence (a third each), so
the scan runs three UPDATEs.

Then, alternately, `--runs` times each, on the same rows and the same `now`, each inside a
transaction that is rolled back (and a VACUUM between runs, so no run pays for the previous
one's dead rows):

- `members.jobs.mark_dormant(org, now)` as the Celery task runs it (in the organization's
  scope): per threshold an INSERT … SELECT of the history rows and the guarded UPDATE;
- the raw baseline: the bare `UPDATE members_membership SET status = 'dormant' … WHERE
  last_active_at < cutoff …` per threshold, over psycopg, without the history.

Both counts must agree (a MISMATCH line otherwise). Then (unless `--no-celery`) one real
Celery worker (`-Q default,metrics,delivery,imports`, BENCH_REDIS_URL) runs the task
`members.tasks.scan_dormant`, which also draws the wake-up's holdout and sends the reminders
(one outbox action per dormant member due one and not held out, members/holdout.py); the
time from enqueueing to the worker's "succeeded" line and the worker's
peak memory are printed, and the dataset is put back as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/dormant_scan.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.lib import app, db, env, results, stack
from bench.lib.plan import SCALES

AWAKE = ["joined", "onboarding", "active", "warned"]
RAW_UPDATE = """
UPDATE members_membership SET status = 'dormant', dormant_since = %(now)s
WHERE organization_id = %(org)s AND community_id = ANY(%(groups)s) AND status = ANY(%(awake)s)
  AND (last_active_at < %(cutoff)s OR (last_active_at IS NULL AND joined_at < %(cutoff)s))
"""


def thresholds(org) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    with app.org_scope(org):
        for community_id, days in app.CommunityRules.objects.for_org(org).values_list(
            "community_id", "dormant_after_days"
        ):
            groups.setdefault(days, []).append(community_id)
    return groups


def run_job(org, now) -> tuple[float, int]:
    """`mark_dormant` as the task runs it, in a transaction rolled back afterwards."""
    from django.db import connection, transaction

    with app.org_scope(org), transaction.atomic():
        t0 = time.perf_counter()
        count = app.mark_dormant(org, now)
        seconds = time.perf_counter() - t0
        transaction.set_rollback(True)
    connection.close()
    return seconds, count


def run_raw(org, groups: dict, now) -> tuple[float, int]:
    """The bare UPDATE per threshold, in a transaction rolled back afterwards."""
    count = 0
    with db.connect() as conn:
        conn.execute("BEGIN")
        t0 = time.perf_counter()
        for days, ids in groups.items():
            params = {"org": org.pk, "groups": ids, "awake": AWAKE, "now": now}
            count += conn.execute(
                RAW_UPDATE, {**params, "cutoff": now - timedelta(days=days)}
            ).rowcount
        seconds = time.perf_counter() - t0
        conn.execute("ROLLBACK")
    return seconds, count


def celery_run(org) -> dict:
    """Enqueue the scan task on the benchmarks' Redis and time a real worker doing it."""
    from celery import Celery

    stack.flush_bench_redis()
    broker = env.redis_url()
    with tempfile.NamedTemporaryFile("w+", prefix="bench-celery-", suffix=".log") as log:
        path = Path(log.name)
        worker = stack.start_celery_worker(log)
        try:
            stack.wait_for_log(path, "ready.", worker, timeout=120)
            # this process's CELERY_BROKER_URL (memory://) would win over a broker argument
            os.environ["CELERY_BROKER_URL"] = broker
            producer = Celery("bench", broker=broker, set_as_current=False)
            producer.conf.task_serializer = "json"
            t0 = time.perf_counter()
            result = producer.send_task(app.TASK_SCAN_DORMANT, args=[org.pk], queue="default")
            task = re.escape(f"{app.TASK_SCAN_DORMANT}[{result.id}]")
            pattern = re.compile(rf"Task {task} succeeded in ([0-9.]+)s: (\{{.*\}})")
            deadline = time.monotonic() + 3600
            match = None
            while time.monotonic() < deadline and worker.poll() is None:
                text = path.read_text(errors="replace")
                match = pattern.search(text)
                if match or f"[{result.id}] raised" in text:
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
    from bench.datasets import dormant

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="default")
    parser.add_argument("--memberships", type=int, help="overrides the scale's count")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each, alternating")
    parser.add_argument("--fresh", action="store_true", help="generate the dataset again")
    parser.add_argument("--no-celery", action="store_true", help="skip the real worker run")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    n = args.memberships or SCALES[args.scale].dormant_memberships
    if n < dormant.PER_MEMBER * 10 or args.runs < 1:
        parser.error(f"--memberships at least {dormant.PER_MEMBER * 10}, --runs at least 1")

    started = time.perf_counter()
    env.setup_django()
    phases = results.Phases()
    org, reused = dormant.ensure(n, fresh=args.fresh, phases=phases)
    phases.run("vacuum", dormant.vacuum)
    groups = thresholds(org)
    with db.connect() as conn:
        rows, awake = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = ANY(%s)) FROM members_membership "
            "WHERE organization_id = %s",
            [AWAKE, org.pk],
        ).fetchone()
    print(f"  {rows:,} memberships ({awake:,} awake) in {sum(map(len, groups.values()))} groups")

    now = datetime.now(UTC)
    job_times, raw_times, job_counts, raw_counts = [], [], [], []
    for i in range(args.runs):
        seconds, count = run_raw(org, groups, now)
        raw_times.append(seconds)
        raw_counts.append(count)
        dormant.vacuum()
        print(f"  run {i + 1}: bare UPDATE   {seconds:7.2f} s  {count:,} rows", flush=True)
        seconds, count = run_job(org, now)
        job_times.append(seconds)
        job_counts.append(count)
        dormant.vacuum()
        print(f"  run {i + 1}: mark_dormant  {seconds:7.2f} s  {count:,} rows", flush=True)
    agree = len(set(job_counts + raw_counts)) == 1
    job, raw = statistics.median(job_times), statistics.median(raw_times)
    out = {
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
        figures = phases.run("scan_dormant on a Celery worker", celery_run, org)
        out.update(figures)
        phases.run("put the dataset back", dormant.reset, org.pk)
    out["phases_s"] = phases.seconds
    out["wall_s"] = round(time.perf_counter() - started, 1)
    out["load_average"] = results.load_average()

    print(
        f"\nmemberships              {rows:>10,}   ({awake:,} awake, thresholds {sorted(groups)} days)"
    )
    print(
        f"marked dormant           {job_counts[0]:>10,}   "
        f"({100 * out['dormant_share']:.0f}% of the awake)"
    )
    print(f"mark_dormant (median)    {job:>10.2f} s  UPDATE + INSERT … SELECT of the history")
    print(f"bare UPDATE (median)     {raw:>10.2f} s  the raw baseline, same rows")
    print(f"ratio job ÷ raw          {job / raw:>10.2f}×")
    print(
        f"counts                   {'agree' if agree else 'MISMATCH'}: job {job_counts}, raw {raw_counts}"
    )
    if "celery_wall_s" in out:
        print(
            f"Celery scan_dormant      {out['celery_wall_s']:>10.2f} s  enqueue to done "
            f"(task {out['celery_task_s']} s): {out['celery_dormant']:,} dormant, "
            f"{out['celery_reminded']:,} reminders; worker peak "
            f"{out['celery_worker_peak_rss_mb']} MB"
        )
    results.write_json(args.json_out, out)


if __name__ == "__main__":
    main()
