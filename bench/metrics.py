"""Metrics API latency against a raw aggregate over the events, and the cost of refreshing
rollups after a backlog of new events. Prints figures; asserts nothing.

Builds (once; later runs reuse it) one organization (Asia/Shanghai) with one community of
100,000 members and 10,000,000 `message.posted` raw events over the last 90 local days, a few
check-ins and 100,000 orders, with set-based SQL (bench/datasets/metrics_group.py); builds the
rollups. Then, in the same run: the median latency of
`GET /api/v1/metrics/communities/<pk>/?window=30` (and of the overview) through gunicorn, the
same figures computed by SQL over the raw tables (median of a few runs), their ratio (targets:
at least 20x, under 50 ms), and the time of the rollups' refresh after 1,000,000 new events on
the last two local days. Key figures end the output as `name: value` lines and go to
bench/results/metrics.json.

Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench_metrics
(created if missing and migrated).
Run: `uv run python bench/metrics.py [--quick] [--members N --events N --orders N] [--fresh]`
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/metrics.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import http.client
import json
import statistics
import time
from datetime import date

from bench.lib import app, db, env, results, stack
from bench.lib.results import summarize

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qunyun_bench_metrics"
RESULTS = env.ROOT / "bench" / "results" / "metrics.json"
WINDOW = 30
PRESENT = ("joined", "onboarding", "active", "warned", "dormant")


# --- timing the API and the read path -------------------------------------------------------


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
    samples = []
    with app.org_scope(org):
        for i in range(n + 3):
            t0 = time.perf_counter()
            result = app.window_rates(org, [community.pk], window, window.previous())
            if i >= 3:
                samples.append(time.perf_counter() - t0)
    return summarize(samples), [r[community.pk] for r in result]


# --- the raw baseline -----------------------------------------------------------------------

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
    previous = window.previous()
    ps, _pe = app.day_bounds(org, previous.start, previous.end)
    cs, ce = app.day_bounds(org, window.start, window.end)
    return {
        "org": org.pk,
        "community": community.pk,
        "ps": ps,
        "cs": cs,
        "ce": ce,
        "present": list(PRESENT),
    }


def raw_figures(org, community, window) -> tuple[dict, dict]:
    """The rates' counts for the window and the previous one, straight from the raw tables;
    returns ({"current": {...}, "previous": {...}}, seconds per query)."""
    params = raw_params(org, community, window)
    with db.connect() as conn:
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


def time_raw(org, community, window, runs: int) -> tuple[dict, dict, dict]:
    totals, parts, figures = [], [], None
    for _ in range(runs):
        figures, seconds = raw_figures(org, community, window)
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


def refresh(org, community, n: int, phases) -> dict:
    """n new messages over yesterday and today (local), marked as ingestion marks them, then
    one timed refresh of the rollups."""
    from bench.datasets.metrics_events import add_late_events

    inserted, marked = add_late_events(org, community, n, phases)
    with app.org_scope(org):
        app.mark_days(org, marked)
        done = phases.run("refresh rollups", app.refresh_rollups, org)
    print(f"  {inserted:,} new events; {len(marked)} group-days marked; {done} recomputed")
    return {"late_events": inserted, "marked": len(marked), "recomputed": done}


# --- main -------------------------------------------------------------------------------------


def dataset(args, phases) -> tuple:
    """(org, community, reused, generated rows, rollup rows): reused when complete."""
    from bench.datasets import metrics_group as group

    slug = group.dataset_slug(args.members, args.events, args.orders)
    org, community = group.find_dataset(slug)
    if community is not None and not args.fresh:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        removed = phases.run("clean previous late events", group.clean_late_events, org)
        print(f"  {removed:,} late events of a previous run removed")
        rollup_rows = group.rebuild(org, phases) if args.rebuild else {}
        return org, community, True, {}, rollup_rows, group.dataset_rows(org)
    if org is not None:
        phases.run("purge old dataset", db.purge, None, org, "bm")
    org, community = group.create_org(slug)
    generated = group.generate(org, community, args.members, args.events, args.orders, phases)
    rollup_rows = group.rebuild(org, phases)
    org.name = group.COMPLETE
    org.save(update_fields=["name"])
    return org, community, False, generated, rollup_rows, group.dataset_rows(org)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="message events")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--late", type=int, default=None, help="new events (default 1,000,000)")
    parser.add_argument(
        "--quick", action="store_true", help="10,000 members, 1,000,000 events, 10,000 orders"
    )
    parser.add_argument("--requests", type=int, default=50, help="timed GETs per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--raw-runs", type=int, default=3, help="runs of the raw aggregate")
    parser.add_argument("--fresh", action="store_true", help="regenerate the dataset")
    parser.add_argument("--rebuild", action="store_true", help="rebuild rollups on a reused one")
    parser.add_argument("--profile", action="store_true", help="profile even if targets are met")
    parser.add_argument("--no-profile", action="store_true", help="not even if they are missed")
    parser.add_argument("--json-out", type=Path, default=RESULTS, help=f"default {RESULTS.name}")
    args = parser.parse_args()
    if args.quick:
        args.members, args.events, args.orders = 10_000, 1_000_000, 10_000
    if args.late is None:
        args.late = 100_000 if args.quick else 1_000_000
    if min(args.members, args.events, args.orders, args.late, args.requests, args.raw_runs) < 1:
        parser.error("every count must be at least 1")
    return args


def main():
    args = arguments()
    env.setup_django(DEFAULT_DATABASE_URL, migrate=False)
    from django.core.management import call_command
    from django.db import connection

    phases = results.Phases()
    phases.run("migrate", call_command, "migrate", verbosity=0)
    org, community, reused, generated, rollup_rows, rows = dataset(args, phases)
    print("  " + ", ".join(f"{k.removeprefix('rows_')} {v:,}" for k, v in rows.items()))
    with app.org_scope(org):
        _key, raw_key = app.api_key_create(
            actor=app.system_actor(org), name=f"metrics bench {int(time.time())}"
        )
    connection.close()
    community_path = f"/api/v1/metrics/communities/{community.pk}/?window={WINDOW}"
    overview_path = f"/api/v1/metrics/overview/?window={WINDOW}"
    server = stack.server_env(redis=False)
    with stack.gunicorn(workers=args.workers, env=server, name="metrics") as (_p, port, _l):
        api, body, size = phases.run(
            "GET community", time_gets, port, raw_key, community_path, args.requests
        )
        overview, _body, overview_size = phases.run(
            "GET overview", time_gets, port, raw_key, overview_path, args.requests
        )

    window = app.Window(
        date.fromisoformat(body["window"]["start"]), date.fromisoformat(body["window"]["end"])
    )
    rates_time, (current, previous) = phases.run(
        "window_rates in-process", time_window_rates, org, community, window, args.requests
    )
    raw, raw_time, raw_parts = phases.run(
        "raw aggregate", time_raw, org, community, window, args.raw_runs
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

    refreshed = refresh(org, community, args.late, phases)
    _t, (current, previous) = time_window_rates(org, community, window, 1)
    raw_after, _s = raw_figures(org, community, window)
    agree_after = compare_figures(
        "after refresh", {"current": counts(current), "previous": counts(previous)}, raw_after
    )

    ratio = raw_time["median_ms"] / api["median_ms"]
    meets_ratio, meets_latency = ratio >= 20, api["median_ms"] < 50
    figures = {
        "dataset": org.slug,
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
        "late_events": refreshed["late_events"],
        "refresh_group_days": refreshed["recomputed"],
        "refresh_s": round(phases.seconds["refresh rollups"], 2),
        "figures_agree_after_refresh": agree_after,
        **{f"phase_{k.replace(' ', '_')}_s": round(v, 1) for k, v in phases.seconds.items()},
        "load_average": results.load_average(),
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
        f"refresh        {phases.seconds['refresh rollups']:.1f} s for "
        f"{refreshed['late_events']:,} new events ({refreshed['recomputed']} group-days)"
    )
    results.write_json(args.json_out, figures)
    print("\n--- summary ---")
    for name, value in figures.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{name}: {value}")
    print(f"(written to {args.json_out})")

    if args.profile or not (meets_ratio and meets_latency or args.no_profile):
        from bench.lib.profile import profile_request

        try:
            profile_request(raw_key, community_path)
        except Exception as exc:  # the figures above stand; say why the profile is missing
            print(f"profile failed: {exc!r}")


if __name__ == "__main__":
    main()
