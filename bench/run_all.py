"""`make bench`: every benchmark of bench/ at one scale, on the real stack, in one run; the key
figures with their raw baselines to bench/results/latest.json and to the results table of
docs/performance.md. Prints what each benchmark prints.

    uv run python bench/run_all.py                  # --scale default: the issue's numbers
    uv run python bench/run_all.py --scale small    # under 15 minutes on 2 cores
    uv run python bench/run_all.py --scale small --only dashboard_load,dormant_scan
    uv run python bench/run_all.py --scale small --fresh   # generate the datasets again

It makes sure PostgreSQL and Redis answer on 127.0.0.1 (starting them as .ci/run does), then
runs, each as its own process with `--json-out bench/results/<name>.json`: the synthetic
organization (generated, or reused when one of that scale is there), the dashboard under load,
API-key checks, ingestion, flash sale, dispatchers, metrics and the dormant scan. A Celery
worker (all queues, Redis db 10) runs while ingestion and the flash sale do, as it would in
production; the dormant scan starts its own. Each benchmark's output is also kept in
bench/results/<name>.log. A benchmark that fails is reported and the others still run; the
exit status is then 1.

The table in docs/performance.md lives between `<!-- bench:<scale>:start -->` and
`<!-- bench:<scale>:end -->` inside `<!-- bench:start -->` … `<!-- bench:end -->`: a run
replaces its own scale's block, so the prose around it and the other scale's table survive.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402

RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# name -> arguments per scale (the scripts' own defaults are the issue's numbers)
PLAN: dict[str, dict[str, list[str]]] = {
    "synthetic": {
        "tiny": ["--scale", "tiny"],
        "small": ["--scale", "small"],
        "default": ["--scale", "default"],
    },
    "dashboard_load": {
        "tiny": ["--scale", "tiny", "--duration", "10", "--baseline-duration", "5", "--alone", "2"],
        "small": ["--scale", "small", "--duration", "60"],
        "default": ["--scale", "default", "--duration", "120"],
    },
    "api_key_auth": {"tiny": [], "small": [], "default": []},
    "ingest_events": {
        "tiny": ["--events", "2000"],
        "small": ["--quick"],
        "default": [],
    },
    "flash_sale": {
        "tiny": ["--clients", "20", "--stock", "50", "--orders-per-client", "3"],
        "small": [],
        "default": [],
    },
    "dispatch_posts": {
        "tiny": ["--posts", "500"],
        "small": ["--posts", "2000"],
        "default": [],
    },
    "metrics": {
        "tiny": [
            *("--members", "1000", "--events", "20000", "--orders", "2000", "--late", "5000"),
            *("--requests", "10", "--raw-runs", "1"),
        ],
        "small": [
            "--members",
            "10000",
            "--events",
            "500000",
            "--orders",
            "20000",
            "--late",
            "50000",
        ],
        "default": [],  # 100,000 members, 10,000,000 messages, 100,000 orders (issue #7)
    },
    "dormant_scan": {
        "tiny": ["--scale", "tiny", "--runs", "1"],
        "small": ["--scale", "small"],
        "default": ["--scale", "default"],
    },
}
FRESH = {"synthetic", "metrics", "dormant_scan"}  # the ones that reuse a dataset
WITH_WORKER = {"ingest_events", "flash_sale"}  # a Celery worker runs beside them


# --- running ----------------------------------------------------------------------------------


def run_step(name: str, args: list[str], env: dict) -> dict:
    json_path = RESULTS / f"{name}.json"
    log_path = RESULTS / f"{name}.log"
    if json_path.exists():
        json_path.unlink()
    cmd = [sys.executable, str(HERE / f"{name}.py"), *args, "--json-out", str(json_path)]
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
        rc = proc.wait()
    seconds = time.perf_counter() - started
    data = None
    if json_path.exists() and json_path.stat().st_mtime >= time.time() - seconds - 1:
        data = json.loads(json_path.read_text())
    print(f"=== {name}: exit {rc}, {seconds:.0f} s", flush=True)
    return {"rc": rc, "seconds": round(seconds, 1), "json": data, "log": str(log_path)}


def machine() -> dict:
    info = {"cores": os.cpu_count(), "load_average_at_start": list(os.getloadavg())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        info["postgresql"] = out.stdout.strip().split(" ")[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    info["python"] = sys.version.split()[0]
    return info


def reused_datasets(steps: dict) -> bool | None:
    """True if every benchmark that keeps a dataset reused it, False if all generated theirs,
    None if some did each (or none ran)."""
    flags = []
    for name in FRESH:
        data = (steps.get(name) or {}).get("json") or {}
        flag = data.get("reused")
        if flag is None and isinstance(data.get("dataset"), dict):  # synthetic.py's
            flag = data["dataset"].get("reused")
        if flag is not None:
            flags.append(bool(flag))
    if not flags or len(set(flags)) > 1:
        return None
    return flags[0]


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


# --- the figures --------------------------------------------------------------------------------


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 100:
            text = f"{value:,.0f}"
        elif abs(value) >= 10:
            text = f"{value:.1f}"
        else:
            text = f"{value:.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def times(cost: float | None, raw: float | None) -> tuple[float | None, str]:
    """cost ÷ raw (both costs: seconds, or seconds per item): above 1 the product path costs
    that many times the raw baseline; below 1 it is that many times faster."""
    if not cost or not raw:
        return None, "—"
    ratio = cost / raw
    if ratio >= 1:
        return round(ratio, 2), f"{ratio:,.1f}× the raw cost"
    return round(ratio, 4), f"{1 / ratio:,.1f}× faster than raw"


def figure(bench, name, value, unit, baseline_name, baseline, baseline_unit, ratio, target="",
           ok=None) -> dict:  # fmt: skip
    ratio_value, ratio_text = ratio
    return {
        "benchmark": bench,
        "figure": name,
        "value": value,
        "unit": unit,
        "baseline": baseline_name,
        "baseline_value": baseline,
        "baseline_unit": baseline_unit,
        "ratio": ratio_value,
        "ratio_text": ratio_text,
        "target": target,
        "ok": ok,
    }


def collect(steps: dict) -> list[dict]:
    rows: list[dict] = []

    def data(name):
        step = steps.get(name)
        return step["json"] if step and step["rc"] == 0 and step["json"] else None

    if d := data("ingest_events"):
        rows.append(
            figure(
                "ingestion",
                f"events/s through POST /api/v1/events/ ({d['events']:,} events, batches of "
                f"{d['batch']:,}, gunicorn 2 workers)",
                d["api_events_per_s"],
                "events/s",
                "COPY of the same rows into members_rawevent",
                d["copy_rows_per_s"],
                "rows/s",
                times(1 / d["api_events_per_s"], 1 / d["copy_rows_per_s"]),
                f"non-200: {d['non_200']}",
                d["non_200"] == 0,
            )
        )
    if d := data("metrics"):
        rows.append(
            figure(
                "metrics",
                f"metrics API, one group of {d['members']:,} members, 30-day window: median "
                f"(p95 {d['api_community_p95_ms']} ms)",
                d["api_community_median_ms"],
                "ms",
                f"raw aggregate over {d.get('rows_message_events', d['message_events']):,} "
                "raw events, orders and membership history (median)",
                d["raw_median_ms"],
                "ms",
                times(d["api_community_median_ms"], d["raw_median_ms"]),
                "≥ 20× faster and < 50 ms; figures equal",
                bool(d["target_20x"] and d["target_50ms"] and d["figures_agree"]),
            )
        )
        insert = d.get("phase_insert_late_events_s")
        rows.append(
            figure(
                "metrics",
                f"rollups.refresh after {d['late_events']:,} late events "
                f"({d['refresh_group_days']} group-days)",
                d["refresh_s"],
                "s",
                "INSERT … SELECT of those events (no rollups)",
                insert,
                "s",
                times(d["refresh_s"], insert),
                "figures equal after refresh",
                bool(d.get("figures_agree_after_refresh")),
            )
        )
    if d := data("flash_sale"):
        rows.append(
            figure(
                "flash sale",
                f"order attempts/s, {d['clients']} concurrent clients through gunicorn "
                f"({d['attempts']:,} attempts, {d['units']:,} units)",
                d["api_attempts_per_s"],
                "attempts/s",
                "bare conditional UPDATE loop on the same row, one connection",
                d["sql_updates_per_s"],
                "updates/s",
                times(1 / d["api_attempts_per_s"], 1 / d["sql_updates_per_s"]),
                f"oversold units: {d['oversold']} (must be 0)",
                d["oversold"] == 0,
            )
        )
    if d := data("dispatch_posts"):
        rows.append(
            figure(
                "dispatcher",
                f"{d['dispatchers']} dispatcher processes publish {d['posts']:,} due posts "
                f"(shares {'/'.join(str(s) for s in d['shares'])})",
                d["wall_s"],
                "s",
                "one UPDATE … RETURNING + INSERT of the same posts (rolled back)",
                d["raw_s"],
                "s",
                times(d["wall_s"], d["raw_s"]),
                f"duplicates: {d['duplicates']} (must be 0), unsent: {d['left_unsent']}",
                d["duplicates"] == 0 and d["left_unsent"] == 0,
            )
        )
    if d := data("dormant_scan"):
        rows.append(
            figure(
                "dormant scan",
                f"members.jobs.mark_dormant over {d['memberships']:,} memberships "
                f"({d['marked']:,} become dormant; median of {d['runs']})",
                d["job_median_s"],
                "s",
                "bare UPDATE … WHERE last_active_at < cutoff, same rows (rolled back)",
                d["raw_median_s"],
                "s",
                times(d["job_median_s"], d["raw_median_s"]),
                "counts agree",
                bool(d["counts_agree"]),
            )
        )
        if "celery_wall_s" in d:
            rows.append(
                figure(
                    "dormant scan",
                    f"task scan_dormant on a Celery worker, enqueue to done "
                    f"({d['celery_dormant']:,} dormant, {d['celery_reminded']:,} reminders; "
                    f"worker peak {d['celery_worker_peak_rss_mb']} MB)",
                    d["celery_wall_s"],
                    "s",
                    "the bare UPDATE above (no history, no reminders)",
                    d["raw_median_s"],
                    "s",
                    times(d["celery_wall_s"], d["raw_median_s"]),
                    "dormant count as above",
                    d["celery_dormant"] >= d["marked"],
                )
            )
    if d := data("dashboard_load"):
        base = d["healthz"].get("median_ms")
        label = f"{d['users']} users, {d['gunicorn_workers']} gunicorn workers"
        for page, row in d["pages"].items():
            rows.append(
                figure(
                    "dashboard",
                    f"{page}: median under load (p95 {row.get('p95_ms')} ms, alone "
                    f"{row.get('alone_median_ms')} ms, {row['requests']:,} requests)",
                    row.get("median_ms"),
                    "ms",
                    f"/healthz median, same load ({label})",
                    base,
                    "ms",
                    times(row.get("median_ms"), base),
                    f"errors: {row['errors']}",
                    row["errors"] == 0,
                )
            )
        overall = d["overall"]
        rows.append(
            figure(
                "dashboard",
                f"all pages: median under load (p95 {overall.get('p95_ms')} ms, "
                f"{overall['rps']} requests/s)",
                overall.get("median_ms"),
                "ms",
                f"/healthz median, same load (p95 {d['healthz'].get('p95_ms')} ms, "
                f"{d['healthz']['rps']} requests/s)",
                base,
                "ms",
                times(overall.get("median_ms"), base),
                f"errors: {overall['errors']}",
                overall["errors"] == 0,
            )
        )
        workers = [p for p in d["processes"] if p["role"] == "worker"]
        rows.append(
            figure(
                "dashboard",
                "peak memory per gunicorn worker (VmHWM: "
                + ", ".join(f"{p['peak_rss_mb']:.0f}" for p in workers)
                + " MB)",
                d["worker_peak_rss_mb"],
                "MB",
                "a worker's resident size once warm (every page served once)",
                d["worker_warm_rss_mb"],
                "MB",
                times(d["worker_peak_rss_mb"], d["worker_warm_rss_mb"]),
            )
        )
    if d := data("api_key_auth"):
        rows.append(
            figure(
                "API keys",
                "API-key check (keyed HMAC-SHA256)",
                d["hmac_us"],
                "µs",
                "bare SHA-256 of the same input",
                d["sha256_us"],
                "µs",
                times(d["hmac_us"], d["sha256_us"]),
                f"password hasher would take {d['password_us']:,.0f} µs",
                None,
            )
        )
    worker = steps.get("_celery_worker")
    if worker and worker.get("peak_rss_mb"):
        rows.append(
            figure(
                "Celery",
                "peak memory of the Celery worker while ingestion and flash sale ran",
                worker["peak_rss_mb"],
                "MB",
                "its resident size once ready",
                worker["ready_rss_mb"],
                "MB",
                times(worker["peak_rss_mb"], worker["ready_rss_mb"]),
            )
        )
    return rows


# --- the document ----------------------------------------------------------------------------------


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


DATASETS = {
    True: "the datasets were reused",
    False: "datasets generated in this run",
    None: "some datasets generated in this run",
}


def table(result: dict) -> str:
    scale = result["scale"]
    m = result["machine"]
    date = result["started"][:10]
    load = m["load_average_at_start"][0]
    where = f"{m['cores']} cores, load {load:.1f}"
    ran = [name for name in PLAN if name in result["steps"]]
    command = (
        f"`make bench SCALE={scale}`"
        if len(ran) == len(PLAN)
        else f"`bench/run_all.py --scale {scale} --only {','.join(ran)}`"
    )
    syn = (result["steps"].get("synthetic") or {}).get("json") or {}
    rows = syn.get("rows", {})
    lines = [
        f"### Scale `{scale}` — {result['started'][:16].replace('T', ' ')} UTC",
        "",
        f"{command}: wall time {result['wall_s'] / 60:.1f} min "
        f"({DATASETS[result.get('reused')]}); "
        f"{m['cores']} cores ({m.get('cpu', '?')}), {m.get('memory_gb', '?')} GB, "
        f"PostgreSQL {m.get('postgresql', '?')}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}; commit "
        f"{result.get('commit', '?')}."
        + (
            f" Synthetic organization: {rows.get('communities', 0):,} groups, "
            f"{rows.get('members', 0):,} members, {rows.get('memberships', 0):,} memberships, "
            f"{rows.get('raw_events', 0):,} raw events, {rows.get('orders', 0):,} orders."
            if rows
            else ""
        ),
        "",
        "| benchmark | figure | value | raw baseline | ratio | target / check | scale | date | machine |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in result["figures"]:
        mark = "" if f["ok"] is None else (" ✅" if f["ok"] else " ❌")
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    f["benchmark"],
                    f["figure"],
                    fmt(f["value"], f["unit"]),
                    f"{f['baseline']}: {fmt(f['baseline_value'], f['baseline_unit'])}",
                    f["ratio_text"],
                    f"{f['target']}{mark}".strip() or "—",
                    scale,
                    date,
                    where,
                )
            )
            + " |"
        )
    failed = [name for name, s in result["steps"].items() if not name.startswith("_") and s["rc"]]
    if failed:
        lines += ["", f"Failed in this run (no figures): {', '.join(failed)}."]
    missing = [name for name in PLAN if name not in result["steps"]]
    if missing:
        lines += ["", f"Not run at this scale in this run: {', '.join(missing)}."]
    return "\n".join(lines)


def write_doc(result: dict) -> None:
    """Replace this scale's block. After a partial run (`--only … --doc`) the rows of the
    benchmarks it did not run are kept from the block it replaces, under a note naming the
    run they came from, so one table holds the latest figure of every benchmark."""
    scale = result["scale"]
    block_start, block_end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(block_start) + r"\n(.*?)\n?" + re.escape(block_end), re.S)
    previous = pattern.search(text)
    body = table(result)
    if previous and any(name not in result["steps"] for name in PLAN):
        body = keep_earlier_rows(
            body, previous.group(1), {f["benchmark"] for f in result["figures"]}
        )
    block = f"{block_start}\n{body}\n{block_end}"
    if previous:
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.replace(END, f"{block}\n\n{END}")
    DOC.write_text(text)


KEPT_NOTE = "Rows kept from an earlier run"


def keep_earlier_rows(body: str, earlier: str, measured: set[str]) -> str:
    """`body` (this run's table) plus the earlier block's rows of benchmarks this run did not
    measure, and a note naming the run they came from (each row also carries its date)."""
    lines = earlier.splitlines()
    rows = [
        line
        for line in lines
        if line.startswith("| ")
        and not line.startswith(("| benchmark |", "| --- |"))
        and line.split("|")[1].strip() not in measured
    ]
    if not rows:
        return body
    run = next((line for line in lines if line.startswith("`")), "").rstrip(".")
    notes = [f"{KEPT_NOTE} ({run})." if run else f"{KEPT_NOTE}."]
    notes += [line for line in lines if line.startswith(KEPT_NOTE) and line not in notes]
    out = [line for line in body.splitlines() if not line.startswith("Not run at this scale")]
    while out and not out[-1].strip():
        out.pop()
    table_end = max(i for i, line in enumerate(out) if line.startswith("| ")) + 1
    out[table_end:table_end] = rows
    kept = ", ".join(dict.fromkeys(row.split("|")[1].strip() for row in rows))
    return "\n".join([*out, "", f"Not measured in this run, rows kept: {kept}.", *notes])


# --- main ------------------------------------------------------------------------------------------


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
        "--report-only",
        action="store_true",
        help="run nothing: redo latest.json and the table from bench/results/latest-<scale>.json",
    )
    args = parser.parse_args()
    if args.report_only:
        saved = RESULTS / f"latest-{args.scale}.json"
        if not saved.exists():
            parser.error(f"no {saved.relative_to(ROOT)} to report from")
        report(json.loads(saved.read_text()), document=not args.no_doc)
        return
    names = list(PLAN)
    if args.only:
        names = [n for n in args.only.split(",") if n]
        unknown = set(names) - set(PLAN)
        if unknown:
            parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    names = [n for n in names if n not in set(args.skip.split(","))]

    started_at = datetime.now(UTC)
    started = time.perf_counter()
    info = machine()
    print(
        f"make bench, scale {args.scale}: {', '.join(names)}\n"
        f"machine: {info['cores']} cores, load average {info['load_average_at_start']}",
        flush=True,
    )
    stack.ensure_services()
    stack.flush_bench_redis()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = os.environ.copy()
    env.setdefault("REDIS_URL", stack.BENCH_REDIS_URL)
    env.setdefault("CELERY_BROKER_URL", stack.BENCH_REDIS_URL)
    env["PYTHONUNBUFFERED"] = "1"

    steps: dict = {}
    worker = worker_log = None
    try:
        for name in names:
            if name in WITH_WORKER and worker is None:
                # open across the steps it serves; closed below
                worker_log = open(RESULTS / "celery_worker.log", "w")  # noqa: SIM115
                worker = stack.start_celery_worker(
                    worker_log, env=stack.stack_env(**stack.bench_env(env))
                )
                stack.wait_for_log(Path(worker_log.name), "ready.", worker, timeout=120)
                ready = stack.memory_kb(worker.pid).get("VmRSS", 0)
            elif name not in WITH_WORKER and worker is not None:
                peak = stack.memory_kb(worker.pid).get("VmHWM", 0)
                stack.stop(worker, timeout=60)
                steps["_celery_worker"] = {
                    "rc": 0,
                    "ready_rss_mb": round(ready / 1024, 1),
                    "peak_rss_mb": round(peak / 1024, 1),
                    "log": worker_log.name,
                }
                worker = None
            step_args = list(PLAN[name][args.scale])
            if args.fresh and name in FRESH:
                step_args.append("--fresh")
            steps[name] = run_step(name, step_args, env)
    finally:
        if worker is not None:
            peak = stack.memory_kb(worker.pid).get("VmHWM", 0)
            stack.stop(worker, timeout=60)
            steps["_celery_worker"] = {
                "rc": 0,
                "ready_rss_mb": round(ready / 1024, 1),
                "peak_rss_mb": round(peak / 1024, 1),
                "log": worker_log.name if worker_log else "",
            }
        if worker_log is not None:
            worker_log.close()

    result = {
        "scale": args.scale,
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 1),
        "commit": git_commit(),
        "machine": info,
        "steps": steps,
    }
    # the raw results first: `--report-only` can redo the rest from them
    (RESULTS / f"latest-{args.scale}.json").write_text(
        json.dumps(result, indent=2, default=str) + "\n"
    )
    report(result, document=not args.no_doc and (args.doc or not args.only))
    failed = [n for n, s in steps.items() if s["rc"]]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


def report(result: dict, document: bool) -> None:
    """Figures, latest.json and (if `document`) the table in docs/performance.md."""
    result["reused"] = reused_datasets(result["steps"])
    result["figures"] = collect(result["steps"])
    text = json.dumps(result, indent=2, default=str) + "\n"
    (RESULTS / "latest.json").write_text(text)
    (RESULTS / f"latest-{result['scale']}.json").write_text(text)
    if document:
        write_doc(result)
    print("\n" + table(result))
    print(f"\nwritten: {(RESULTS / 'latest.json').relative_to(ROOT)}", end="")
    print(f", {DOC.relative_to(ROOT)}" if document else "")


if __name__ == "__main__":
    main()
