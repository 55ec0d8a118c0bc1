"""Flash-sale orders per second with 200 concurrent clients through the real HTTP API (gunicorn),
beside a bare conditional-UPDATE loop in SQL on the same table in the same run (the ratio), and
the count of oversold units (must be 0).

Run: `uv run python bench/flash_sale.py [--clients 200] [--stock 500] [--orders-per-client 5]
[--json-out PATH]` (PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench).
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest_events as server_tools  # noqa: E402 - the gunicorn helpers of the other bench


def setup(clients: int, stock: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from campaigns import services
    from communities import services as community_services
    from members.models import Member, MemberIdentity, Membership
    from tenancy.actors import Actor
    from tenancy.services import api_key_create, organization_create

    call_command("migrate", verbosity=0)
    slug = f"flash-{int(time.time())}"
    org = organization_create(name="flash bench", slug=slug, owner_email=f"{slug}@example.com")
    actor = Actor.system(org, "bench")
    _key, raw = api_key_create(actor=actor, name="bench")
    group = community_services.community_create(actor=actor, name="秒杀群")
    now = timezone.now()
    sale = services.flash_sale_create(
        actor=actor,
        name="bench sale",
        product_name="鱼油",
        price=9,
        original_price=99,
        stock=stock,
        starts_at=now - timezone.timedelta(minutes=1),
        ends_at=now + timezone.timedelta(hours=1),
        communities=[group],
        per_member_cap=1000,
    )
    sale.status = "scheduled"
    sale.save(update_fields=["status"])
    members = Member.objects.bulk_create(
        [Member(organization=org, display_name=f"m{i}") for i in range(clients)]
    )
    identities = MemberIdentity.objects.bulk_create(
        [
            MemberIdentity(organization=org, member=m, platform="wechat", external_user_id=f"m{i}")
            for i, m in enumerate(members)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(organization=org, community=group, member=m, identity=ident, status="active")
            for m, ident in zip(members, identities, strict=True)
        ]
    )
    return org, sale, raw, [m.pk for m in members]


def client_loop(port, key, sale_id, member_id, orders, results):
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
        results.append(
            payload.get("error", {}).get("code", "created") if response.status != 201 else "created"
        )
    conn.close()


def sql_baseline(sale_id, attempts):
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            "UPDATE campaigns_campaign SET stock_left = stock_total WHERE id = %s", [sale_id]
        )
        started = time.perf_counter()
        for _ in range(attempts):
            conn.execute(
                "UPDATE campaigns_campaign SET stock_left = stock_left - 1 WHERE id = %s AND stock_left >= 1",
                [sale_id],
            )
        return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--orders-per-client", type=int, default=5)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    url = server_tools.configure_environment()
    server_tools.ensure_database(url)
    org, sale, key, member_ids = setup(args.clients, args.stock)
    port = server_tools.free_port()
    log_path = "/tmp/qunyun-flash-bench.log"  # noqa: S108 - a scratch log
    with open(log_path, "w") as log:
        server = server_tools.start_server(port, log)
        try:
            server_tools.wait_healthy(server, port, log_path)
            results: list = []
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(port, key, sale.pk, m, args.orders_per_client, results),
                )
                for m in member_ids
            ]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            api_seconds = time.perf_counter() - started
        finally:
            server_tools.stop_server(server)
    from campaigns.models import Campaign, Order

    sold = Order.objects.for_org(org).filter(campaign=sale).count()
    left = Campaign.objects.for_org(org).get(pk=sale.pk).stock_left
    attempts = len(results)
    sql_seconds = sql_baseline(sale.pk, attempts)
    api_rate, sql_rate = attempts / api_seconds, attempts / sql_seconds
    print(f"clients                  {args.clients:>10}")
    print(
        f"order attempts           {attempts:>10,}   ({', '.join(f'{c}: {results.count(c)}' for c in sorted(set(results)))})"
    )
    print(f"units                    {args.stock:>10,}")
    print(f"API seconds              {api_seconds:>10.2f}   ({api_rate:,.0f} attempts/s)")
    print(f"SQL conditional UPDATEs  {sql_seconds:>10.2f}   ({sql_rate:,.0f} /s, one connection)")
    print(f"ratio SQL ÷ API          {sql_rate / api_rate:>10.1f}×")
    print(f"orders created           {sold:>10,}")
    oversold = max(0, sold - args.stock) + max(0, -left)
    print(f"oversold units           {oversold:>10}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "clients": args.clients,
            "attempts": attempts,
            "outcomes": {c: results.count(c) for c in sorted(set(results))},
            "units": args.stock,
            "api_s": round(api_seconds, 3),
            "api_attempts_per_s": round(api_rate, 1),
            "sql_s": round(sql_seconds, 3),
            "sql_updates_per_s": round(sql_rate, 1),
            "ratio_sql_over_api": round(sql_rate / api_rate, 1),
            "orders_created": sold,
            "oversold": oversold,
            "load_average": round(os.getloadavg()[0], 2),
        }
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
