"""`make bench`: every benchmark of bench/ at one scale, on the real stack, in one run; the key
figures with their raw baselines to bench/results/latest.json and to the results table of
docs/performance.md, and each benchmark's correctness checks. Prints what each benchmark prints.

    uv run python bench/run_all.py                  # --scale default: the issue's numbers
    uv run python bench/run_all.py --scale small    # under 15 minutes on 2 cores
    uv run python bench/run_all.py --scale small --only dashboard_load,dormant_scan
    uv run python bench/run_all.py --scale small --fresh   # generate the datasets again
    uv run python bench/run_all.py --scale tiny --fresh --no-doc --results-dir /tmp/x  # smoke

It makes sure PostgreSQL and Redis answer on 127.0.0.1 (starting them as .ci/run does), then
runs, each as its own process (`python -m bench.<name> … --json-out <results>/<name>.json`):
the synthetic organization (generated, or reused when one of that scale is there), the
dashboard under load, API-key checks, ingestion, flash sale, dispatchers, metrics and the
dormant scan (their arguments per scale: bench/lib/plan.py). A Celery worker (all queues, the
benchmarks' Redis database) runs while ingestion and the flash sale do, as it would in
production; the dormant scan starts its own. Each benchmark's output is also kept in
<results>/<name>.log. A benchmark that fails is reported and the others still run; the exit
status is 1 if one failed or if a correctness check did not hold (bench/lib/figures.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/run_all.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import os
import re
import subprocess
import time
from datetime import UTC, datetime

from bench.lib import env, figures, report, results, stack
from bench.lib.plan import FRESH, PLAN, WITH_WORKER

RESULTS = env.ROOT / "bench" / "results"


def run_step(name: str, args: list[str], env_vars: dict, out: Path) -> dict:
    json_path, log_path = out / f"{name}.json", out / f"{name}.log"
    if json_path.exists():
        json_path.unlink()
    cmd = [sys.executable, "-m", f"bench.{name}", *args, "--json-out", str(json_path)]
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=env.ROOT,
            env=env_vars,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
        rc = proc.wait()
    seconds = time.perf_counter() - started
    data = json.loads(json_path.read_text()) if json_path.exists() else None
    print(f"=== {name}: exit {rc}, {seconds:.0f} s", flush=True)
    return {"rc": rc, "seconds": round(seconds, 1), "json": data, "log": str(log_path)}


class Worker:
    """The Celery worker that runs beside some of the benchmarks; its memory once ready and
    at its peak."""

    def __init__(self, out: Path, env_vars: dict):
        self.out, self.env = out, stack.server_env(base=env.settings_env(env_vars))
        self.proc, self.log, self.ready_kb = None, None, 0

    def start(self) -> None:
        if self.proc is not None:
            return
        self.log = open(self.out / "celery_worker.log", "w")  # noqa: SIM115 - closed in stop
        self.proc = stack.start_celery_worker(self.log, env=self.env)
        stack.wait_for_log(Path(self.log.name), "ready.", self.proc, timeout=120)
        self.ready_kb = stack.memory_kb(self.proc.pid).get("VmRSS", 0)

    def stop(self, steps: dict) -> None:
        if self.proc is None:
            return
        peak = stack.memory_kb(self.proc.pid).get("VmHWM", 0)
        stack.stop(self.proc, timeout=60)
        self.log.close()
        text = Path(self.log.name).read_text(errors="replace")
        steps["_celery_worker"] = {
            "rc": 0,
            "ready_rss_mb": round(self.ready_kb / 1024, 1),
            "peak_rss_mb": round(peak / 1024, 1),
            "tasks_succeeded": len(re.findall(r"\] succeeded in ", text)),
            "tasks_failed": len(re.findall(r"\] raised unexpected", text)),
            "log": self.log.name,
        }
        self.proc = None


def run(names: list[str], scale: str, fresh: bool, out: Path) -> dict:
    started_at, started = datetime.now(UTC), time.perf_counter()
    info = results.machine()
    print(
        f"make bench, scale {scale}: {', '.join(names)}\n"
        f"machine: {info['cores']} cores, load average {info['load_average_at_start']}\n"
        f"database {os.environ.get('DATABASE_URL', env.DEFAULT_DATABASE_URL)}, "
        f"Redis {env.redis_url()}, results in {out}",
        flush=True,
    )
    stack.ensure_services()
    stack.flush_bench_redis()
    out.mkdir(parents=True, exist_ok=True)
    # each benchmark configures itself (its own default database, e.g. the metrics one's)
    env_vars = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env_vars.setdefault("REDIS_URL", env.redis_url())
    env_vars.setdefault("CELERY_BROKER_URL", env.redis_url())
    steps: dict = {}
    worker = Worker(out, env_vars)
    try:
        for name in names:
            if name in WITH_WORKER:
                worker.start()
            else:
                worker.stop(steps)
            step_args = list(PLAN[name][scale])
            if fresh and name in FRESH:
                step_args.append("--fresh")
            steps[name] = run_step(name, step_args, env_vars, out)
    finally:
        worker.stop(steps)
    return {
        "scale": scale,
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 1),
        "commit": results.git_commit(),
        "machine": info,
        "steps": steps,
    }


def finish(result: dict, out: Path, document: bool) -> list[dict]:
    """Figures, checks, latest.json and (if `document`) the table in docs/performance.md.
    Returns the checks that did not hold."""
    result["reused"] = report.reused_datasets(result["steps"])
    result["figures"] = figures.collect(result["steps"])
    result["checks"] = figures.checks(result["steps"])
    text = json.dumps(result, indent=2, default=str) + "\n"
    (out / "latest.json").write_text(text)
    (out / f"latest-{result['scale']}.json").write_text(text)
    if document:
        report.write_doc(result)
    print("\n" + report.table(result))
    print(f"\nwritten: {out / 'latest.json'}" + (f", {report.DOC}" if document else ""))
    broken = [c for c in result["checks"] if not c["ok"]]
    for c in result["checks"]:
        print(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['benchmark']}: {c['check']}")
    return broken


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["tiny", "small", "default"], default="default")
    parser.add_argument("--only", help="comma-separated benchmarks (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument("--fresh", action="store_true", help="generate the datasets again")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument(
        "--doc",
        action="store_true",
        help="write the table even with --only (notes what did not run)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS,
        help="where the JSON and logs go (default bench/results)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: redo latest.json and the table from <results>/latest-<scale>.json",
    )
    args = parser.parse_args()
    out = args.results_dir.resolve()
    if args.report_only:
        saved = out / f"latest-{args.scale}.json"
        if not saved.exists():
            parser.error(f"no {saved} to report from")
        finish(json.loads(saved.read_text()), out, document=not args.no_doc)
        return
    names = list(PLAN)
    if args.only:
        names = [n for n in args.only.split(",") if n]
        unknown = set(names) - set(PLAN)
        if unknown:
            parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    names = [n for n in names if n not in set(args.skip.split(","))]

    result = run(names, args.scale, args.fresh, out)
    # the raw results first: `--report-only` can redo the rest from them
    (out / f"latest-{args.scale}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    broken = finish(result, out, document=not args.no_doc and (args.doc or not args.only))
    failed = [n for n, s in result["steps"].items() if s["rc"]]
    if failed or broken:
        print(f"FAILED: {', '.join(failed + [c['benchmark'] for c in broken])}")
        sys.exit(1)


if __name__ == "__main__":
    main()
