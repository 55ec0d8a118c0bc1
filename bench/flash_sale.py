"""Flash-sale orders per second with 200 concurrent clients through the real HTTP API (gunicorn),
twice on the same members: through the database path alone (no stock gate) and with the Redis
stock gate in front (campaigns/stock_gate.py); beside a bare conditional-UPDATE loop in SQL on
the same table in the same run (the ratio), and the count of oversold units (must be 0). Then
the live-stock read a polling page makes (`stock_gate.live_stock`) beside a query for
`stock_left`, with the queries a poll makes (must be 0).

Run: `uv run python bench/flash_sale.py [--clients 200] [--stock 500] [--orders-per-client 5]
[--json-out PATH]` (PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench;
the gate's Redis: BENCH_REDIS_URL, default redis://127.0.0.1:6379/10).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/flash_sale.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import http.client
import json
import threading
import time

from bench.datasets import flash
from bench.lib import app, db, env, results, stack


def setup(clients: int, stock: int):
    """A fresh organization with one group, two live flash sales (through the services: one
    for each path) and `clients` members in the group."""
    slug = f"flash-{int(time.time())}"
    org = app.organization_create(name="flash bench", slug=slug, owner_email=f"{slug}@example.com")
    actor = app.system_actor(org)
    _key, raw = app.api_key_create(actor=actor, name="bench")
    group = app.community_create(actor=actor, name="秒杀群")
    sales = [
        flash.live_flash_sale(org, actor, group, name=name, stock=stock, cap=1000)
        for name in ("bench sale (database path)", "bench sale (stock gate)")
    ]
    members = flash.group_members(org, group, clients)
    return org, sales, raw, [m.pk for m in members]


def client_loop(port, key, sale_id, member_id, orders, outcomes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for n in range(orders):
        body = json.dumps({"member": member_id, "quantity": 1})
        conn.request(
            "POST",
            f"/api/v1/campaigns/{sale_id}/orders/",
            body=body,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"{member_id}-{n}",
            },
        )
        response = conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        outcomes.append(
            payload.get("error", {}).get("code", "created") if response.status != 201 else "created"
        )
    conn.close()


def sql_baseline(sale_id, attempts):
    with db.connect() as conn:
        conn.execute(
            "UPDATE campaigns_campaign SET stock_left = stock_total WHERE id = %s", [sale_id]
        )
        started = time.perf_counter()
        for _ in range(attempts):
            conn.execute(
                "UPDATE campaigns_campaign SET stock_left = stock_left - 1 "
                "WHERE id = %s AND stock_left >= 1",
                [sale_id],
            )
        return time.perf_counter() - started


def sale_round(key, sale_id, member_ids, orders, gate_url: str) -> tuple[list, float]:
    """Every client places `orders` orders at once through a fresh gunicorn; the stock gate on
    `gate_url` (empty: no gate)."""
    outcomes: list = []
    env = stack.server_env(redis=False, STOCK_GATE_REDIS_URL=gate_url)
    with stack.gunicorn(env=env, name="flash") as (_p, port, _log):
        threads = [
            threading.Thread(target=client_loop, args=(port, key, sale_id, m, orders, outcomes))
            for m in member_ids
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return outcomes, time.perf_counter() - started


def sold(org, sale, units: int) -> dict:
    orders = app.Order.objects.for_org(org).filter(campaign=sale).count()
    left = app.Campaign.objects.for_org(org).get(pk=sale.pk).stock_left
    return {"orders_created": orders, "oversold": max(0, orders - units) + max(0, -left)}


def polling(org, sale, gate_url: str, polls: int = 2000) -> dict:
    """What a live page's poll costs: the gate's count from Redis against a query."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.STOCK_GATE_REDIS_URL = gate_url
    app.load_stock_gate(sale)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        for _ in range(polls):
            gate_left = app.live_stock(sale)
        gate_s = time.perf_counter() - started
    rows = app.Campaign.objects.for_org(org).filter(pk=sale.pk).values_list("stock_left")
    started = time.perf_counter()
    for _ in range(polls):
        sql_left = rows.all()[0][0]
    sql_s = time.perf_counter() - started
    return {
        "polls": polls,
        "live_stock_us": round(gate_s / polls * 1e6, 1),
        "sql_us": round(sql_s / polls * 1e6, 1),
        "queries_per_poll": len(queries) / polls,
        "agrees": gate_left == sql_left,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--orders-per-client", type=int, default=5)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    env.setup_django()
    from django.db import connection

    org, (db_sale, gate_sale), key, member_ids = setup(args.clients, args.stock)
    connection.close()
    gate_url = env.redis_url()
    rounds = {}
    for name, sale, url in (("database", db_sale, ""), ("gate", gate_sale, gate_url)):
        outcomes, seconds = sale_round(key, sale.pk, member_ids, args.orders_per_client, url)
        rounds[name] = {
            "attempts": len(outcomes),
            "outcomes": {c: outcomes.count(c) for c in sorted(set(outcomes))},
            "api_s": round(seconds, 3),
            "api_attempts_per_s": round(len(outcomes) / seconds, 1),
            **sold(org, sale, args.stock),
        }
    attempts = rounds["database"]["attempts"]
    sql_seconds = sql_baseline(db_sale.pk, attempts)
    sql_rate = attempts / sql_seconds
    poll = polling(org, gate_sale, gate_url)
    for name, r in rounds.items():
        print(f"{name} path")
        print(f"  order attempts         {r['attempts']:>10,}   ({r['outcomes']})")
        print(f"  API seconds            {r['api_s']:>10.2f}   ({r['api_attempts_per_s']:,} /s)")
        print(f"  orders created         {r['orders_created']:>10,}   of {args.stock:,} units")
        print(f"  oversold units         {r['oversold']:>10}")
    print(f"SQL conditional UPDATEs  {sql_seconds:>10.2f}   ({sql_rate:,.0f} /s, one connection)")
    print(
        f"poll: live_stock {poll['live_stock_us']} µs, SELECT stock_left {poll['sql_us']} µs, "
        f"queries per poll {poll['queries_per_poll']}"
    )
    db, gate = rounds["database"], rounds["gate"]
    results.write_json(
        args.json_out,
        {
            "clients": args.clients,
            "attempts": attempts,
            "outcomes": db["outcomes"],
            "units": args.stock,
            "api_s": db["api_s"],
            "api_attempts_per_s": db["api_attempts_per_s"],
            "sql_s": round(sql_seconds, 3),
            "sql_updates_per_s": round(sql_rate, 1),
            "ratio_sql_over_api": round(sql_rate / db["api_attempts_per_s"], 1),
            "orders_created": db["orders_created"],
            "oversold": db["oversold"],
            "gate": gate,
            "poll": poll,
            "load_average": results.load_average(),
        },
    )


if __name__ == "__main__":
    main()
