"""How fast does `POST /api/v1/events/` take events? Prints figures; asserts nothing.

Posts N events (default 100,000, in batches of 1,000) through the real HTTP stack (gunicorn, two
workers, on 127.0.0.1) into a fresh organization, then, in the same run, COPYs the same rows
into the same table (`members_rawevent`) with psycopg and prints both rates and their ratio: the
ratio is what ingestion costs on top of merely storing the raw events. One more batch is then
posted in-process to count its queries (`--profile` also prints a cProfile of that batch).

The events: bench/datasets/events.py. Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench (the
database is created if missing and migrated). Every run adds a new organization; drop the
database to start clean.
Run: `uv run python bench/ingest_events.py [--quick | --events N] [--batch 1000] [--profile]
[--json-out bench/results/ingest_events.json]`
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/ingest_events.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import http.client
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

from bench.datasets.events import CITIES, GROUPS, PRODUCTS, generate_events, group_id
from bench.lib import app, db, env, results, stack

RULED_GROUPS = 10  # groups created up front with the health_food rules; the rest are discovered
COPY_SQL = (
    "COPY members_rawevent (organization_id, client_event_id, type, occurred_at, received_at, "
    "batch_id, api_key_id, community_id, member_id, payload) FROM STDIN"
)


def create_tenant():
    slug = f"bench-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    org = app.organization_create(
        name="Ingestion benchmark", slug=slug, owner_email=f"{slug}@bench.example.com"
    )
    actor = app.system_actor(org)
    key, raw = app.api_key_create(actor=actor, name="bench bot")
    kinds = ["general", "regional", "category", "general", "category"]
    for i in range(RULED_GROUPS):
        kind = kinds[i % len(kinds)]
        community = app.community_create(
            actor=actor,
            name=f"健康交流{i + 1}群",
            kind=kind,
            platform="wechat",
            external_id=group_id(i),
            region=CITIES[i % len(CITIES)] if kind == "regional" else "",
            category=PRODUCTS[i % len(PRODUCTS)] if kind == "category" else "",
        )
        app.rules_apply_template(actor=actor, community=community, template="health_food")
        app.rules_update(
            actor=actor,
            community=community,
            auto_replies=[{"keyword": "1", "reply": "群规：只谈健康，禁止广告。"}],
        )
    return org, key, raw


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def post_batches(port: int, raw_key: str, bodies: list[bytes]) -> dict:
    headers = {
        "Authorization": f"Bearer {raw_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    out = {"accepted": 0, "duplicates": 0, "rejected": 0, "ok": 0, "errors": [], "latency": []}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/events/", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        out["latency"].append(time.perf_counter() - t0)
        if response.status != 200:
            out["errors"].append((response.status, data[:300]))
            continue
        result = json.loads(data)
        out["ok"] += 1
        out["accepted"] += result["accepted"]
        out["duplicates"] += result["duplicates"]
        out["rejected"] += len(result["rejected"])
    out["seconds"] = time.perf_counter() - started
    conn.close()
    return out


# --- one batch in-process: queries and profile ------------------------------------------------


def probe_batch(raw_key: str, events: list[dict], profile: bool) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # Warm up this process (URL resolver, DRF, first connection) with an empty batch.
    client.post("/api/v1/events/", {"events": []}, content_type="application/json")
    body = json.dumps({"events": events}, ensure_ascii=False)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.post("/api/v1/events/", body, content_type="application/json")
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - t0
    sql_seconds = sum(float(q["time"]) for q in queries.captured_queries)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "slowest": slowest,
        "status": response.status_code,
        "queries": len(queries.captured_queries),
        "seconds": seconds,
        "sql_seconds": sql_seconds,
        "profiler": profiler,
    }


def copy_rows(org, key, events: list[dict], batch: int) -> tuple[int, float]:
    """COPY the same rows the API stored (other client ids) into members_rawevent."""
    import msgspec
    from psycopg.types.json import Jsonb

    communities = dict(app.Community.objects.for_org(org).values_list("external_id", "pk"))
    members = dict(
        app.MemberIdentity.objects.for_org(org).values_list("external_user_id", "member_id")
    )
    rows = []
    for chunk in batches(events, batch):
        batch_id = uuid.uuid4()
        received_at = datetime.now(UTC)
        for item in chunk:
            payload = msgspec.to_builtins(msgspec.convert(item, app.Event, strict=False))
            if not org.store_message_text:
                payload.pop("text", None)
            rows.append(
                (
                    org.pk,
                    "copy-" + item["id"],
                    item["type"],
                    datetime.fromisoformat(item["occurred_at"]),
                    received_at,
                    batch_id,
                    key.pk,
                    communities[item["community"]],
                    members[item["user"]],
                    Jsonb(payload),
                )
            )
    with db.connect() as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(COPY_SQL) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
    return len(rows), seconds


def outcome(org) -> str:
    from django.db.models import Count

    kinds = dict(
        app.Action.objects.for_org(org)
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return (
        f"raw events {app.RawEvent.objects.for_org(org).count()}, "
        f"memberships {app.Membership.objects.for_org(org).count()}, "
        f"warnings {app.Warning.objects.for_org(org).count()}, "
        f"blocks {app.Block.objects.for_org(org).count()}, "
        "actions " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )


# --- main -------------------------------------------------------------------------------------


def report(n, args, org, bodies, http_run, probe_run, copied, copy_seconds) -> dict:
    api_rate = http_run["accepted"] / http_run["seconds"] if http_run["seconds"] else 0.0
    copy_rate = copied / copy_seconds if copy_seconds else 0.0
    latency = sorted(http_run["latency"])
    p50, p95 = statistics.median(latency), results.percentile(latency, 0.95)
    print(f"organization             {org.slug}  ({GROUPS} groups, {RULED_GROUPS} with rules)")
    print(f"gunicorn workers         {args.workers:>10}")
    print(f"events                   {n:>10,}")
    print(f"batches                  {len(bodies):>10,}   of {args.batch}")
    print(
        f"HTTP 200 responses       {http_run['ok']:>10,}   accepted {http_run['accepted']:,}, "
        f"duplicates {http_run['duplicates']:,}, rejected {http_run['rejected']:,}"
    )
    if http_run["errors"]:
        errors = http_run["errors"]
        print(f"non-200 responses        {len(errors):>10,}   first: {errors[0]}")
    print(f"HTTP seconds             {http_run['seconds']:>10.2f}")
    print(f"events/s via API         {api_rate:>10,.0f}")
    print(f"per batch (s)            p50 {p50:.3f}  p95 {p95:.3f}  max {latency[-1]:.3f}")
    print(f"COPY seconds             {copy_seconds:>10.2f}   ({copied:,} rows)")
    print(f"rows/s via COPY          {copy_rate:>10,.0f}")
    if api_rate:
        print(f"ratio COPY ÷ API         {copy_rate / api_rate:>10.1f}×")
    print(
        f"one batch in-process     {probe_run['seconds']:>10.3f} s   status {probe_run['status']}, "
        f"{probe_run['queries']} queries ({probe_run['sql_seconds']:.3f} s in SQL)"
        + (", under cProfile" if args.profile else "")
    )
    slowest = probe_run["slowest"]
    if slowest:
        print(
            f"  slowest query          {float(slowest['time']):>10.3f} s   "
            f"{len(slowest['sql']) / 1000:,.0f} kB of SQL: {slowest['sql'][:60]}…"
        )
    print(f"outcome                  {outcome(org)}")
    return {
        "organization": org.slug,
        "events": n,
        "batch": args.batch,
        "batches": len(bodies),
        "gunicorn_workers": args.workers,
        "http_200": http_run["ok"],
        "non_200": len(http_run["errors"]),
        "accepted": http_run["accepted"],
        "duplicates": http_run["duplicates"],
        "rejected": http_run["rejected"],
        "http_s": round(http_run["seconds"], 2),
        "api_events_per_s": round(api_rate, 1),
        "batch_p50_s": round(p50, 3),
        "batch_p95_s": round(p95, 3),
        "batch_max_s": round(latency[-1], 3),
        "copy_rows": copied,
        "copy_s": round(copy_seconds, 3),
        "copy_rows_per_s": round(copy_rate, 1),
        "ratio_copy_over_api": round(copy_rate / api_rate, 1) if api_rate else None,
        "probe_status": probe_run["status"],
        "probe_queries": probe_run["queries"],
        "probe_s": round(probe_run["seconds"], 3),
        "probe_sql_s": round(probe_run["sql_seconds"], 3),
        "load_average": results.load_average(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="10,000 events")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process batch")
    parser.add_argument("--json-out", type=Path, help="also write the key figures as JSON here")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.events
    if not 1 <= args.batch <= 1000 or n < 1:
        parser.error("--batch is 1..1000 and --events at least 1")

    env.setup_django()
    from django.db import connection

    org, key, raw_key = create_tenant()
    events = generate_events(n + args.batch)
    events, probe = events[:n], events[n:]
    bodies = [
        json.dumps({"events": chunk}, ensure_ascii=False).encode()
        for chunk in batches(events, args.batch)
    ]
    connection.close()  # the server's workers and this process's later queries reconnect

    server = stack.server_env(redis=False)
    with stack.gunicorn(workers=args.workers, env=server, name="ingest") as (_p, port, log):
        http_run = post_batches(port, raw_key, bodies)
        if http_run["errors"]:
            print(Path(log).read_text(errors="replace")[-2000:], file=sys.stderr)
    probe_run = probe_batch(raw_key, probe, args.profile)
    copied, copy_seconds = copy_rows(org, key, events, args.batch)
    figures = report(n, args, org, bodies, http_run, probe_run, copied, copy_seconds)
    results.write_json(args.json_out, figures)
    if probe_run["profiler"]:
        import pstats

        stats = pstats.Stats(probe_run["profiler"], stream=sys.stdout).strip_dirs()
        print("\n--- in-process batch, by cumulative time ---")
        stats.sort_stats("cumulative").print_stats(35)
        print("--- by own time ---")
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
