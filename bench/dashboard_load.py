"""Dashboard pages under 20 concurrent users, through gunicorn, against the synthetic
organization; beside /healthz under the same load (the raw baseline). Prints figures; asserts
nothing.

    uv run python bench/dashboard_load.py --scale small               # 60 s of load
    uv run python bench/dashboard_load.py --scale default --duration 120
    uv run python bench/dashboard_load.py --scale small --users 10 --workers 5

Needs the synthetic organization of that scale (bench/synthetic.py; generated here if missing)
in the bench database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench),
PostgreSQL and Redis (BENCH_REDIS_URL, db 10 by default: cache and Celery broker, as in
production).

It starts gunicorn on a free port of 127.0.0.1 as the image runs it (`--workers` sync workers,
3 by default, like WEB_CONCURRENCY), logs `--users` people in through the login form (2 owners,
10 managers and 8 staff with deputy roles in 3 groups each: every page below is one they may
see), and then, in the same run:

1. warm-up: every user opens each of their pages once (not timed);
2. alone: one client opens each page `--alone` times in a row (its service time, no queueing);
3. baseline: `--users` threads (requests.Session each) GET `/healthz` (database and broker
   checked) for `--baseline-duration` seconds;
4. load: the same threads, each cycling through its pages in its own order, for `--duration`
   seconds: the overview, groups, members filtered by status, the content calendar, campaigns
   (owners, managers), metrics overview, the metrics page of a group, the care queue and the
   audit log (owners, managers).

For each page and overall: requests, errors (anything but 200), requests per second, median
and 95th percentile latency, and the median as a ratio to /healthz's median under the same
load; the memory of each gunicorn process (peak resident set, VmHWM, beside its size after
warm-up). With `--json-out`, writes them as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/dashboard_load.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import random
import re
import statistics
import tempfile
import threading
import time

from bench.lib import env, results, stack
from bench.lib.plan import SCALES
from bench.lib.results import percentile

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pages_for(dataset, user: dict) -> dict[str, str]:
    base = f"/o/{dataset.slug}/"
    group = user["communities"][0] if user["communities"] else dataset.communities[0]
    pages = {
        "overview": base,
        "communities": f"{base}communities/",
        "members?status=dormant": f"{base}members/?status=dormant",
        "calendar": f"{base}calendar/",
        "campaigns": f"{base}campaigns/",
        "metrics": f"{base}metrics/",
        "metrics group": f"{base}metrics/groups/{group}/",
        "care": f"{base}care/",
        "audit": f"{base}audit/",
    }
    if user["role"] == "deputy":  # campaigns and the audit log are not a deputy's business
        del pages["campaigns"], pages["audit"]
    return pages


def summarize(samples: list[float], errors: int, seconds: float) -> dict:
    ordered = sorted(samples)
    if not ordered:
        return {"requests": errors, "errors": errors, "rps": 0}
    return {
        "requests": len(ordered) + errors,
        "errors": errors,
        "rps": round((len(ordered) + errors) / seconds, 1) if seconds else 0,
        "median_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * percentile(ordered, 0.95), 1),
        "max_ms": round(1000 * ordered[-1], 1),
    }


def login(session, base_url: str, email: str, password: str) -> None:
    page = session.get(f"{base_url}/accounts/login/", timeout=60)
    match = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or not match:
        raise SystemExit(f"login page: HTTP {page.status_code}")
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": match.group(1)},
        headers={"Referer": f"{base_url}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        raise SystemExit(f"login of {email} failed: HTTP {response.status_code}")


class Recorder:
    """Latencies and errors per page, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_examples: list[str] = []

    def add(self, name: str, seconds: float, status: int, url: str) -> None:
        with self.lock:
            self.samples.setdefault(name, [])
            self.errors.setdefault(name, 0)
            if status == 200:
                self.samples[name].append(seconds)
            else:
                self.errors[name] += 1
                if len(self.error_examples) < 5:
                    self.error_examples.append(f"{status} {url}")


def hit(session, base_url: str, name: str, path: str, recorder: Recorder | None) -> None:
    t0 = time.perf_counter()
    try:
        status = session.get(base_url + path, allow_redirects=False, timeout=120).status_code
    except Exception:  # noqa: BLE001 - a refused or timed-out request is an error to count
        status = 0
    if recorder is not None:
        recorder.add(name, time.perf_counter() - t0, status, path)


def load(sessions, plans, base_url: str, seconds: float, seed: int) -> tuple[Recorder, float]:
    """Every thread cycles through its own (shuffled) list of pages until time is up."""
    recorder = Recorder()
    start = threading.Barrier(len(sessions) + 1)
    deadline: list[float] = []

    def client(i: int) -> None:
        rng = random.Random(seed + i)
        order = list(plans[i].items())
        rng.shuffle(order)
        start.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            name, path = order[n % len(order)]
            hit(sessions[i], base_url, name, path, recorder)
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    deadline.append(time.perf_counter() + seconds)
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    return recorder, time.perf_counter() - t0


class MemoryWatch:
    """The gunicorn master and workers: their size once warm (every page served once; the
    baseline), and the peak (VmHWM) at the end."""

    def __init__(self, master: int):
        self.master = master
        self.warm: dict[int, int] = {}

    def snapshot(self) -> None:
        self.warm = {pid: stack.memory_kb(pid).get("VmRSS", 0) for pid in self.pids()}

    def pids(self) -> list[int]:
        return [self.master, *stack.children(self.master)]

    def report(self) -> list[dict]:
        rows = []
        for pid in self.pids():
            mem = stack.memory_kb(pid)
            rows.append(
                {
                    "pid": pid,
                    "role": "master" if pid == self.master else "worker",
                    "warm_rss_mb": round(self.warm.get(pid, 0) / 1024, 1),
                    "rss_mb": round(mem.get("VmRSS", 0) / 1024, 1),
                    "peak_rss_mb": round(mem.get("VmHWM", 0) / 1024, 1),
                }
            )
        return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--users", type=int, default=20, help="concurrent logged-in users")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--duration", type=float, default=60, help="seconds of page load")
    parser.add_argument("--baseline-duration", type=float, default=15, help="seconds of /healthz")
    parser.add_argument("--alone", type=int, default=5, help="requests per page by one client")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    if args.users < 1 or args.workers < 1 or args.duration <= 0:
        parser.error("--users, --workers and --duration must be positive")

    import requests

    env.setup_django()
    from django.db import connection

    from bench.datasets import synthetic

    dataset = synthetic.ensure(SCALES[args.scale])
    connection.close()
    team = dataset.users
    people = [team[i % len(team)] for i in range(args.users)]  # distinct while users <= 20
    plans = [pages_for(dataset, user) for user in people]
    page_names = list(pages_for(dataset, {"role": "owner", "communities": []}))

    stack.ensure_services()
    stack.flush_bench_redis()
    port = stack.free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="bench-dashboard-", suffix=".log") as log:
        server = stack.start_gunicorn(port, log, workers=args.workers)
        try:
            stack.wait_healthy(server, port, log.name)
            time.sleep(1)  # every worker booted
            memory = MemoryWatch(server.pid)

            sessions = []
            for user in people:
                session = requests.Session()
                login(session, base_url, user["email"], dataset.password)
                sessions.append(session)
            print(f"{len(sessions)} users logged in; {args.workers} gunicorn workers", flush=True)

            warm = Recorder()
            for session, plan in zip(sessions, plans, strict=True):
                for name, path in plan.items():
                    hit(session, base_url, name, path, warm)
            warm_errors = sum(warm.errors.values())
            if warm_errors:
                print(f"warm-up: {warm_errors} errors, e.g. {warm.error_examples}", flush=True)

            alone = Recorder()
            owner_plan = plans[0]
            for name, path in owner_plan.items():
                for _ in range(args.alone):
                    hit(sessions[0], base_url, name, path, alone)
            memory.snapshot()
            print(
                "alone: "
                + ", ".join(
                    f"{name} {1000 * statistics.median(alone.samples[name]):.0f} ms"
                    for name in owner_plan
                    if alone.samples.get(name)
                ),
                flush=True,
            )

            health = [{"healthz": "/healthz"}] * len(sessions)
            baseline, baseline_s = load(sessions, health, base_url, args.baseline_duration, 1)
            print(
                f"baseline: /healthz x {len(sessions)} threads for {baseline_s:.0f} s",
                flush=True,
            )
            pages, pages_s = load(sessions, plans, base_url, args.duration, 2)
            print(f"load: {len(page_names)} pages x {len(sessions)} threads for {pages_s:.0f} s")
            processes = memory.report()
        finally:
            stack.stop(server)

    base = summarize(
        baseline.samples.get("healthz", []), baseline.errors.get("healthz", 0), baseline_s
    )
    rows = {}
    for name in page_names:
        if name not in pages.samples:
            continue
        row = summarize(pages.samples[name], pages.errors[name], pages_s)
        if alone.samples.get(name):
            row["alone_median_ms"] = round(1000 * statistics.median(alone.samples[name]), 1)
        if "median_ms" in row and base.get("median_ms"):
            row["ratio_to_healthz"] = round(row["median_ms"] / base["median_ms"], 1)
        rows[name] = row
    every = [s for name in rows for s in pages.samples[name]]
    overall = summarize(every, sum(pages.errors.values()), pages_s)
    if base.get("median_ms") and "median_ms" in overall:
        overall["ratio_to_healthz"] = round(overall["median_ms"] / base["median_ms"], 1)
    workers = [p for p in processes if p["role"] == "worker"]
    figures = {
        "dataset": dataset.slug,
        "scale": args.scale,
        "users": len(sessions),
        "gunicorn_workers": args.workers,
        "duration_s": round(pages_s, 1),
        "healthz": base,
        "pages": rows,
        "overall": overall,
        "error_examples": pages.error_examples,
        "processes": processes,
        "worker_peak_rss_mb": max((p["peak_rss_mb"] for p in workers), default=0),
        "worker_warm_rss_mb": max((p["warm_rss_mb"] for p in workers), default=0),
        "load_average": results.load_average(),
    }

    print(
        f"\n{'page':<24}{'requests':>9}{'errors':>7}{'req/s':>7}{'median':>9}{'p95':>9}"
        f"{'alone':>8}{'÷ healthz':>11}"
    )
    for name, row in [*rows.items(), ("all pages", overall), ("/healthz (baseline)", base)]:
        alone_ms = f"{row['alone_median_ms']:.0f}ms" if "alone_median_ms" in row else "-"
        ratio = f"{row['ratio_to_healthz']:.1f}×" if "ratio_to_healthz" in row else "-"
        print(
            f"{name:<24}{row['requests']:>9,}{row['errors']:>7}{row['rps']:>7.1f}"
            f"{row.get('median_ms', 0):>7.0f}ms{row.get('p95_ms', 0):>7.0f}ms"
            f"{alone_ms:>8}{ratio:>11}"
        )
    if pages.error_examples:
        print(f"errors, e.g.: {pages.error_examples}")
    for p in processes:
        print(
            f"{p['role']:<7} pid {p['pid']:<8} warm {p['warm_rss_mb']:>6.1f} MB, "
            f"peak {p['peak_rss_mb']:>6.1f} MB, now {p['rss_mb']:>6.1f} MB"
        )
    results.write_json(args.json_out, figures)


if __name__ == "__main__":
    main()
