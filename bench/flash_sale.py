"""Flash-sale orders per second with 200 concurrent clients through the real HTTP API (gunicorn),
beside a bare conditional-UPDATE loop in SQL on the same table in the same run (the ratio), and
the count of oversold units (must be 0).

Run: `uv run python bench/flash_sale.py [--clients 200] [--stock 500] [--orders-per-client 5]
[--json-out PATH]` (PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench).
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
from datetime import timedelta

from bench.lib import app, db, env, results, stack


def setup(clients: int, stock: int):
    """A fresh organization with one group, a live flash sale (through the services) and
    `clients` members in the group."""
    from django.utils import timezone

    slug = f"flash-{int(time.time())}"
    org = app.organization_create(name="flash bench", slug=slug, owner_email=f"{slug}@example.com")
    actor = app.system_actor(org)
    _key, raw = app.api_key_create(actor=actor, name="bench")
    group = app.community_create(actor=actor, name="秒杀群")
    now = timezone.now()
    sale = app.flash_sale_create(
        actor=actor,
        name="bench sale",
        product_name="鱼油",
        price=9,
        original_price=99,
        stock=stock,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        communities=[group],
        per_member_cap=1000,
    )
    with app.org_scope(org):
        app.campaign_publish(actor=actor, campaign=sale)
    Member, Identity = app.Member, app.MemberIdentity
    members = Member.objects.bulk_create(
        [Member(organization=org, display_name=f"m{i}") for i in range(clients)]
    )
    identities = Identity.objects.bulk_create(
        [
            Identity(organization=org, member=m, platform="wechat", external_user_id=f"m{i}")
            for i, m in enumerate(members)
        ]
    )
    app.Membership.objects.bulk_create(
        [
            app.Membership(
                organization=org, community=group, member=m, identity=ident, status="active"
            )
            for m, ident in zip(members, identities, strict=True)
        ]
    )
    return org, sale, raw, [m.pk for m in members]


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--orders-per-client", type=int, default=5)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    env.setup_django()
    from django.db import connection

    org, sale, key, member_ids = setup(args.clients, args.stock)
    connection.close()
    outcomes: list = []
    with stack.gunicorn(env=stack.server_env(redis=False), name="flash") as (_p, port, _log):
        threads = [
            threading.Thread(
                target=client_loop, args=(port, key, sale.pk, m, args.orders_per_client, outcomes)
            )
            for m in member_ids
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        api_seconds = time.perf_counter() - started
    sold = app.Order.objects.for_org(org).filter(campaign=sale).count()
    left = app.Campaign.objects.for_org(org).get(pk=sale.pk).stock_left
    attempts = len(outcomes)
    sql_seconds = sql_baseline(sale.pk, attempts)
    api_rate, sql_rate = attempts / api_seconds, attempts / sql_seconds
    counted = {c: outcomes.count(c) for c in sorted(set(outcomes))}
    oversold = max(0, sold - args.stock) + max(0, -left)
    print(f"clients                  {args.clients:>10}")
    print(
        f"order attempts           {attempts:>10,}   "
        f"({', '.join(f'{c}: {n}' for c, n in counted.items())})"
    )
    print(f"units                    {args.stock:>10,}")
    print(f"API seconds              {api_seconds:>10.2f}   ({api_rate:,.0f} attempts/s)")
    print(f"SQL conditional UPDATEs  {sql_seconds:>10.2f}   ({sql_rate:,.0f} /s, one connection)")
    print(f"ratio SQL ÷ API          {sql_rate / api_rate:>10.1f}×")
    print(f"orders created           {sold:>10,}")
    print(f"oversold units           {oversold:>10}")
    results.write_json(
        args.json_out,
        {
            "clients": args.clients,
            "attempts": attempts,
            "outcomes": counted,
            "units": args.stock,
            "api_s": round(api_seconds, 3),
            "api_attempts_per_s": round(api_rate, 1),
            "sql_s": round(sql_seconds, 3),
            "sql_updates_per_s": round(sql_rate, 1),
            "ratio_sql_over_api": round(sql_rate / api_rate, 1),
            "orders_created": sold,
            "oversold": oversold,
            "load_average": results.load_average(),
        },
    )


if __name__ == "__main__":
    main()
