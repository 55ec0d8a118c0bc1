"""How fast does `POST /api/v1/events/` take events? Prints figures; asserts nothing.

Posts N events (default 100,000, in batches of 1,000) through the real HTTP stack (gunicorn, two
workers, on 127.0.0.1) into a fresh organization, then, in the same run, COPYs the same rows
into the same table (`members_rawevent`) with psycopg and prints both rates and their ratio: the
ratio is what ingestion costs on top of merely storing the raw events. One more batch is then
posted in-process to count its queries (`--profile` also prints a cProfile of that batch).

Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench (the
database is created if missing and migrated). Every run adds a new organization; drop the
database to start clean.
Run: `uv run python bench/ingest_events.py [--quick | --events N] [--batch 1000] [--profile]
[--json-out bench/results/ingest_events.json]`
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qunyun_bench"
GROUPS = 20  # distinct groups in the events
RULED_GROUPS = 10  # of which created up front with the health_food rules; the rest are discovered
USERS = 5000
MIX = [  # (type, share of events)
    ("message.posted", 70),
    ("member.joined", 10),
    ("member.checked_in", 8),
    ("content.shared", 5),
    ("order.placed", 4),
    ("member.left", 2),
    ("member.invited", 1),
]
COPY_SQL = (
    "COPY members_rawevent (organization_id, client_event_id, type, occurred_at, received_at, "
    "batch_id, api_key_id, community_id, member_id, payload) FROM STDIN"
)
CST = timezone(timedelta(hours=8))
CITIES = ["西安", "上海", "北京", "杭州", "成都", "广州", "武汉", "南京"]
PRODUCTS = ["白藜芦醇", "深海鱼油", "蔓越莓", "益生菌", "钙片"]
CHAT = [
    "大家好",
    "今天的鱼油收到了，包装很好",
    "请问白藜芦醇一天吃几粒？",
    "早上好，今天也要元气满满",
    "这个活动什么时候结束？",
    "已下单，期待发货",
    "营养师的课程很有用，谢谢分享",
    "有没有人一起拼单",
    "蔓越莓适合孕妇吃吗",
    "收到，谢谢群主",
    "1",
]
ADS = ["加微信领取优惠", "代购正品，价格美丽", "在家兼职日赚三百"]


# --- environment and database -----------------------------------------------------------------


def configure_environment() -> str:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    url = os.environ["DATABASE_URL"]
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"This benchmark needs PostgreSQL (COPY, and a real server); DATABASE_URL is {url!r}.\n"
            f"Set DATABASE_URL to a postgres:// URL, e.g. {DEFAULT_DATABASE_URL}"
        )
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "0"
    os.environ["TESTING"] = "1"  # fast password hashing, no SSL redirect
    os.environ["SECRET_KEY"] = "bench-only-secret-key-not-for-production-0123456789abcdef"
    os.environ.setdefault("REDIS_URL", "")
    # make bench sets Redis db 10 (cache and broker, with a worker running); alone: in memory
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # Small --batch values would otherwise meet the per-key limit (1200 requests a minute).
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return url


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        sys.exit(f"DATABASE_URL names no database: {url!r}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


# --- the tenant -------------------------------------------------------------------------------


def group_id(i: int) -> str:
    return f"wx-bench-{i:03d}"


def user_id(i: int) -> str:
    return f"wxid_bench_{i:05d}"


def create_tenant():
    from communities import services as community_services
    from tenancy.actors import Actor
    from tenancy.services import api_key_create, organization_create

    slug = f"bench-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    org = organization_create(
        name="Ingestion benchmark", slug=slug, owner_email=f"{slug}@bench.example.com"
    )
    actor = Actor.system(org, "bench")
    key, raw = api_key_create(actor=actor, name="bench bot")
    kinds = ["general", "regional", "category", "general", "category"]
    for i in range(RULED_GROUPS):
        kind = kinds[i % len(kinds)]
        community = community_services.community_create(
            actor=actor,
            name=f"健康交流{i + 1}群",
            kind=kind,
            platform="wechat",
            external_id=group_id(i),
            region=CITIES[i % len(CITIES)] if kind == "regional" else "",
            category=PRODUCTS[i % len(PRODUCTS)] if kind == "category" else "",
        )
        community_services.rules_apply_template(
            actor=actor, community=community, template="health_food"
        )
        community_services.rules_update(
            actor=actor,
            community=community,
            auto_replies=[{"keyword": "1", "reply": "群规：只谈健康，禁止广告。"}],
        )
    return org, key, raw


# --- the events -------------------------------------------------------------------------------


def generate_events(n: int, seed: int = 20261121) -> list[dict]:
    """n events in time order with the MIX above: ~USERS people across GROUPS groups, a few
    links and ad keywords (warnings, removals), the odd burst of messages (flood). About two
    seconds apart, ending about now (daily caps and check-in streaks look at recent days)."""
    rng = random.Random(seed)
    people = []
    for i in range(USERS):
        name = f"用户{i}"
        good = rng.random() < 0.92
        card = f"{rng.choice(CITIES)}-{name}-{rng.choice(PRODUCTS)}" if good else name
        home = [rng.randrange(GROUPS)]
        if rng.random() < 0.25:
            home.append(rng.randrange(GROUPS))
        people.append((user_id(i), name, card, home))
    activity = [rng.paretovariate(1.2) for _ in range(USERS)]
    who = rng.choices(range(USERS), weights=activity, k=n)
    types = rng.choices([t for t, _w in MIX], weights=[w for _t, w in MIX], k=n)
    at = datetime.now(CST).replace(microsecond=0) - timedelta(seconds=2 * n)
    burst = None  # [person index, group, messages left]
    events = []
    for i in range(n):
        at += timedelta(milliseconds=rng.randint(500, 3500))
        kind = types[i]
        p = who[i]
        if kind == "message.posted" and burst:
            p, group, burst[2] = burst[0], burst[1], burst[2] - 1
            if not burst[2]:
                burst = None
        else:
            group = rng.choice(people[p][3])
        uid, name, card, _home = people[p]
        event = {
            "id": f"evt-{i:07d}",
            "type": kind,
            "occurred_at": at.isoformat(),
            "platform": "wechat",
            "community": group_id(group),
            "user": uid,
            "display_name": name,
        }
        roll = rng.random()
        if kind == "message.posted":
            if roll < 0.012:
                url = f"https://shop{rng.randrange(50)}.example.net/p/{rng.randrange(10**6)}"
                event.update(kind="link", has_link=True, links=[url], text=f"看看这个 {url}")
            elif roll < 0.017:
                event.update(kind="text", text=rng.choice(ADS))
            elif roll < 0.25:
                event.update(kind="image", length=0)
            else:
                event.update(kind="text", text=rng.choice(CHAT))
            if "text" in event:
                event["length"] = len(event["text"])
            if rng.random() < 0.10:
                event["name_card"] = card
            if burst is None and rng.random() < 0.004:
                burst = [p, group, 6]
        elif kind == "member.joined":
            event["name_card"] = card
            if roll < 0.2:
                event["invited_by"] = user_id(rng.randrange(USERS))
        elif kind == "content.shared":
            event["url"] = f"https://mp.example.com/s/{rng.randrange(10**6)}"
        elif kind == "order.placed":
            items = [
                {
                    "name": rng.choice(PRODUCTS),
                    "sku": f"SKU-{rng.randrange(100)}",
                    "quantity": rng.randint(1, 3),
                    "price": f"{rng.randint(29, 399)}.{rng.randrange(100):02d}",
                }
                for _ in range(rng.randint(1, 3))
            ]
            total = sum(int(it["quantity"]) * float(it["price"]) for it in items)
            event.update(order_id=f"ord-{i:07d}", amount=f"{total:.2f}", items=items)
        elif kind == "member.left":
            event["reason"] = rng.choice(
                ["content_not_useful", "too_many_ads", "no_benefits", "other", ""]
            )
        elif kind == "member.invited":
            event["invitee"] = user_id(rng.randrange(USERS))
        events.append(event)
    return events


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- the HTTP run -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "600",  # a slow batch is a figure to print, not a worker to kill
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the master and its workers only
        proc.wait(timeout=10)


def wait_healthy(proc: subprocess.Popen, port: int, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    print(Path(log_path).read_text()[-3000:], file=sys.stderr)
    raise SystemExit("gunicorn did not become healthy (its log is above)")


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


# --- the COPY baseline ------------------------------------------------------------------------


def copy_rows(url: str, org, key, events: list[dict], batch: int) -> tuple[int, float]:
    """COPY the same rows the API stored (other client ids) into members_rawevent."""
    import msgspec
    import psycopg
    from psycopg.types.json import Jsonb

    from communities.models import Community
    from integrations.event_schema import Event
    from members.models import MemberIdentity

    communities = dict(Community.objects.for_org(org).values_list("external_id", "pk"))
    members = dict(MemberIdentity.objects.for_org(org).values_list("external_user_id", "member_id"))
    rows = []
    for chunk in batches(events, batch):
        batch_id = uuid.uuid4()
        received_at = datetime.now(UTC)
        for item in chunk:
            payload = msgspec.to_builtins(msgspec.convert(item, Event, strict=False))
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
    with psycopg.connect(url) as conn:
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

    from integrations.models import Action
    from members.models import Block, Membership, RawEvent, Warning

    kinds = dict(
        Action.objects.for_org(org).values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    return (
        f"raw events {RawEvent.objects.for_org(org).count()}, "
        f"memberships {Membership.objects.for_org(org).count()}, "
        f"warnings {Warning.objects.for_org(org).count()}, "
        f"blocks {Block.objects.for_org(org).count()}, "
        "actions " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )


# --- main -------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="10,000 events")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process batch")
    parser.add_argument("--json-out", type=Path, help="also write the key figures as JSON here")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.events
    if not 1 <= args.batch <= 1000 or n < 1:
        parser.error("--batch is 1..1000 and --events at least 1")

    url = configure_environment()
    ensure_database(url)
    warnings.filterwarnings(
        "ignore", "No directory at", UserWarning
    )  # whitenoise, no collectstatic
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"This benchmark needs PostgreSQL, not {connection.vendor}.")
    call_command("migrate", verbosity=0)

    org, key, raw_key = create_tenant()
    events = generate_events(n + args.batch)
    events, probe = events[:n], events[n:]
    bodies = [
        json.dumps({"events": chunk}, ensure_ascii=False).encode()
        for chunk in batches(events, args.batch)
    ]
    connection.close()  # the server's workers and this process's later queries reconnect

    port = free_port()
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        proc = start_server(port, log)
        try:
            wait_healthy(proc, port, log.name)
            http_run = post_batches(port, raw_key, bodies)
        finally:
            stop_server(proc)
        if http_run["errors"]:
            log.flush()
            tail = Path(log.name).read_text()[-2000:]
    probe_run = probe_batch(raw_key, probe, args.profile)
    copied, copy_seconds = copy_rows(url, org, key, events, args.batch)

    api_rate = http_run["accepted"] / http_run["seconds"] if http_run["seconds"] else 0.0
    copy_rate = copied / copy_seconds if copy_seconds else 0.0
    latency = sorted(http_run["latency"])
    print(f"organization             {org.slug}  ({GROUPS} groups, {RULED_GROUPS} with rules)")
    print(f"events                   {n:>10,}")
    print(f"batches                  {len(bodies):>10,}   of {args.batch}")
    print(
        f"HTTP 200 responses       {http_run['ok']:>10,}   accepted {http_run['accepted']:,}, "
        f"duplicates {http_run['duplicates']:,}, rejected {http_run['rejected']:,}"
    )
    if http_run["errors"]:
        print(
            f"non-200 responses        {len(http_run['errors']):>10,}   first: {http_run['errors'][0]}"
        )
        print(tail, file=sys.stderr)
    print(f"HTTP seconds             {http_run['seconds']:>10.2f}")
    print(f"events/s via API         {api_rate:>10,.0f}")
    print(
        f"per batch (s)            p50 {statistics.median(latency):.3f}  "
        f"p95 {latency[int(0.95 * (len(latency) - 1))]:.3f}  max {latency[-1]:.3f}"
    )
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
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "organization": org.slug,
            "events": n,
            "batch": args.batch,
            "batches": len(bodies),
            "http_200": http_run["ok"],
            "non_200": len(http_run["errors"]),
            "accepted": http_run["accepted"],
            "duplicates": http_run["duplicates"],
            "rejected": http_run["rejected"],
            "http_s": round(http_run["seconds"], 2),
            "api_events_per_s": round(api_rate, 1),
            "batch_p50_s": round(statistics.median(latency), 3),
            "batch_p95_s": round(latency[int(0.95 * (len(latency) - 1))], 3),
            "batch_max_s": round(latency[-1], 3),
            "copy_s": round(copy_seconds, 3),
            "copy_rows_per_s": round(copy_rate, 1),
            "ratio_copy_over_api": round(copy_rate / api_rate, 1) if api_rate else None,
            "probe_queries": probe_run["queries"],
            "probe_s": round(probe_run["seconds"], 3),
            "probe_sql_s": round(probe_run["sql_seconds"], 3),
            "load_average": round(os.getloadavg()[0], 2),
        }
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    if probe_run["profiler"]:
        import pstats

        stats = pstats.Stats(probe_run["profiler"], stream=sys.stdout).strip_dirs()
        print("\n--- in-process batch, by cumulative time ---")
        stats.sort_stats("cumulative").print_stats(35)
        print("--- by own time ---")
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
