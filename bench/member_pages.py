"""The member pages under load (issue 20): a flash sale bought from 1,000 member sessions at once
through gunicorn as the image runs it, beside a trivial Django view (`/livez`) under the same
load in the same run; then 1,000 members polling the live stock every 3 s, with the database
transactions PostgreSQL counted during the polling (must be 0).

1. Flash sale. One sale of `--units` (100) units, cap 1 per member, the Redis stock gate on
   (`STOCK_GATE_REDIS_URL`, the benchmarks' Redis database, also the servers' cache). Each of
   `--members` (1,000) threads is one member with a session (`members.access.start_session`,
   the `qy_member` cookie): in this order, all threads released together by a barrier each time,
   - `/livez` once each (the trivial view: no database, no Redis);
   - the buy: each thread first GETs the campaign page (its CSRF cookie and the form's token,
     untimed), then at the barrier POSTs `/m/<org>/c/<pk>/buy/` (quantity 1, its own
     idempotency key): a 302 to `/m/<org>/me/orders/<id>/` is a unit sold, a 302 back to the
     campaign page a refusal;
   - the same members buy again once sold out: every answer a refusal, from the gate;
   - `/livez` once each again. The baseline is the mean rate of the two `/livez` waves.
   Then from PostgreSQL: orders of the sale (exactly the units), oversold units (0), members
   holding more than the cap (0).
2. Polling. A second sale (its page shown once, its gate loaded, as before it opens), a fresh
   gunicorn, and `--members` pollers GETting `/m/<org>/c/<pk>/stock/` every `--poll-interval`
   (3) s for `--poll-duration` (30) s: p50/p95/p99, errors (anything but a 200), and the
   transactions of the bench database over the polling divided by the polls
   (`member_load.transactions` says what that counts).

Run: `uv run python bench/member_pages.py [--members 1000] [--units 100] [--workers 3]
[--poll-duration 30] [--json-out PATH]` (PostgreSQL: DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/qunyun_bench; Redis: BENCH_REDIS_URL, default
redis://127.0.0.1:6379/10).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/member_pages.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import time

from bench.datasets import flash
from bench.lib import app, db, env, results, stack
from bench.lib import member_load as load

POLL_STOCK = 500  # units of the polled sale (nobody buys it)


def setup(members: int, units: int):
    """A fresh organization with one group, two live flash sales (through the services) and
    `members` members in the group, each with a member session."""
    slug = f"members-{int(time.time())}"
    org = app.organization_create(name="member bench", slug=slug, owner_email=f"{slug}@example.com")
    actor = app.system_actor(org)
    group = app.community_create(actor=actor, name="秒杀群")
    sale = flash.live_flash_sale(org, actor, group, name="member sale", stock=units, cap=1, hours=2)
    polled = flash.live_flash_sale(
        org, actor, group, name="polled sale", stock=POLL_STOCK, cap=1, hours=2
    )
    rows = flash.group_members(org, group, members, name="会员")
    with app.org_scope(org):
        keys = [app.start_session(m, "link") for m in rows]
    return org, sale, polled, keys


def flash_sale(port: int, slug: str, sale_pk: int, keys: list[str]) -> dict:
    page, buy = f"/m/{slug}/c/{sale_pk}/", f"/m/{slug}/c/{sale_pk}/buy/"
    sold_prefix = f"/m/{slug}/me/orders/"
    n = len(keys)
    jars: list[dict] = [{} for _ in range(n)]
    tokens = [""] * n

    def trivial(_i, _p):
        return "200" if load.request(port, "GET", "/livez").status == 200 else "not 200"

    def open_page(i):
        jars[i] = {"qy_member": keys[i]}
        answer = load.request(port, "GET", page, cookies=jars[i])
        if answer.status != 200:
            raise RuntimeError(f"campaign page answered {answer.status}")
        jars[i].update(answer.cookies)
        tokens[i] = load.csrf_token(answer)

    def buy_once(attempt):
        def act(i, _p):
            form = {
                "quantity": "1",
                "idempotency_key": f"{keys[i][:12]}-{attempt}",
                "csrfmiddlewaretoken": tokens[i],
            }
            answer = load.request(port, "POST", buy, cookies=jars[i], form=form)
            if answer.status != 302:
                return f"http {answer.status}"
            if sold_prefix in answer.location:
                return "bought"
            return "refused" if answer.location.endswith(page) else "elsewhere"

        return act

    before = load.wave(n, trivial)
    print(f"  /livez wave: {before['per_s']:,} answers/s, p50 {before['p50_ms']} ms", flush=True)
    bought = load.wave(n, buy_once(1), prepare=open_page)
    print(f"  buy wave: {bought['outcomes']}, {bought['per_s']:,} attempts/s", flush=True)
    sold_out = load.wave(n, buy_once(2))
    print(f"  sold-out wave: {sold_out['outcomes']}, {sold_out['per_s']:,} /s", flush=True)
    after = load.wave(n, trivial)
    print(f"  /livez again: {after['per_s']:,} answers/s, p50 {after['p50_ms']} ms", flush=True)
    trivial_rate = round((before["per_s"] + after["per_s"]) / 2, 1)
    return {
        "trivial": {"before": before, "after": after, "per_s": trivial_rate},
        "buy": bought,
        "sold_out": sold_out,
        "ratio_attempts_over_trivial": round(bought["per_s"] / trivial_rate, 3),
        "ratio_sold_out_over_trivial": round(sold_out["per_s"] / trivial_rate, 3),
    }


def sold(org, sale, units: int) -> dict:
    orders = app.Order.objects.for_org(org).filter(campaign=sale)
    count = orders.count()
    buyers = orders.values("member_id").distinct().count()
    left = app.Campaign.objects.for_org(org).get(pk=sale.pk).stock_left
    return {
        "units_sold": count,
        "oversold": max(0, count - units) + max(0, -left),
        "over_cap": count - buyers,  # cap 1: each buyer holds one order of one unit
        "stock_left": left,
    }


def polling(org, sale, keys, args, gate_url: str, database_url: str) -> dict:
    from django.conf import settings
    from django.db import connection

    settings.STOCK_GATE_REDIS_URL = gate_url
    app.load_stock_gate(sale)  # as before the sale opens (stock_gate.load)
    connection.close()
    slug = org.slug
    page, path = f"/m/{slug}/c/{sale.pk}/", f"/m/{slug}/c/{sale.pk}/stock/"
    expected = b'data-testid="stock-left"'
    # CONN_MAX_AGE=0 here only: a connection a request opened is closed at its end, so its
    # backend exits and publishes its counts at once (a persistent one may hold them up to
    # 10 s). The polls themselves open none when they make no query.
    server = stack.server_env(redis=True, STOCK_GATE_REDIS_URL=gate_url, CONN_MAX_AGE=0)

    def fetch(i):
        answer = load.request(port, "GET", path, cookies={"qy_member": keys[i]}, timeout=60)
        return answer.status == 200 and expected in answer.body

    def fetch_trivial(i):
        answer = load.request(port, "GET", "/livez", cookies={"qy_member": keys[i]}, timeout=60)
        return answer.status == 200

    with db.connect(env.maintenance_url(database_url)) as pg, db.connect() as bench_db:
        with stack.gunicorn(workers=args.workers, env=server, name="member-poll") as (_p, port, _l):
            shown = load.request(port, "GET", page, cookies={"qy_member": keys[0]})
            warm = [load.request(port, "GET", path).status for _ in range(2 * args.workers)]
            if shown.status != 200 or set(warm) != {200}:
                raise SystemExit(f"warm-up failed: page {shown.status}, polls {warm}")
            # the baseline: the same pollers on the trivial view, in the same server
            trivial = load.poll(len(keys), args.poll_interval, args.poll_duration, fetch_trivial)
            vacuumed = load.vacuum_due(bench_db)
            time.sleep(1.5)
            since = bench_db.execute("SELECT now()").fetchone()[0]
            before = load.transactions(pg, env.database_name(database_url))
            polled = load.poll(len(keys), args.poll_interval, args.poll_duration, fetch)
        time.sleep(1.5)  # the servers' connections closed: their counts published
        after = load.transactions(pg, env.database_name(database_url))
        autovacuumed = load.autovacuum_since(bench_db, since)
    polled["trivial"] = trivial
    polled["transactions"] = after - before
    polled["queries_per_poll"] = round((after - before) / max(1, polled["polls"]), 6)
    polled["vacuumed_before"] = vacuumed
    polled["autovacuum_during"] = autovacuumed
    return polled


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--poll-duration", type=float, default=30.0)
    parser.add_argument("--poll-interval", type=float, default=3.0)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    database_url = env.setup_django()
    from django.db import connection

    phases = results.Phases()
    org, sale, polled_sale, keys = phases.run("setup", setup, args.members, args.units)
    connection.close()
    gate_url = env.redis_url()
    server = stack.server_env(redis=True, STOCK_GATE_REDIS_URL=gate_url)
    with stack.gunicorn(workers=args.workers, env=server, name="member-sale") as (_p, port, _l):
        flash = phases.run("flash sale", flash_sale, port, org.slug, sale.pk, keys)
    flash.update(sold(org, sale, args.units))
    poll = phases.run("polling", polling, org, polled_sale, keys, args, gate_url, database_url)
    b, s, t = flash["buy"], flash["sold_out"], flash["trivial"]
    print(f"members {args.members:,}, units {args.units:,}, gunicorn {args.workers} workers")
    print(f"trivial view /livez      {t['per_s']:>10,} answers/s (waves: "
          f"{t['before']['per_s']:,} and {t['after']['per_s']:,})")  # fmt: skip
    print(f"buy attempts             {b['per_s']:>10,} /s   p50 {b['p50_ms']} ms, "
          f"p99 {b['p99_ms']} ms   {b['outcomes']}")  # fmt: skip
    print(f"  ÷ trivial              {flash['ratio_attempts_over_trivial']:>10}   (target ≥ 0.5)")
    print(f"sold-out answers         {s['per_s']:>10,} /s   p50 {s['p50_ms']} ms, "
          f"p99 {s['p99_ms']} ms   {s['outcomes']}")  # fmt: skip
    print(f"  ÷ trivial              {flash['ratio_sold_out_over_trivial']:>10}   (target ≥ 0.8)")
    print(f"units sold               {flash['units_sold']:>10}   of {args.units} (exactly)")
    print(f"oversold units           {flash['oversold']:>10}   over the cap: {flash['over_cap']}")
    print(f"polls                    {poll['polls']:>10,}   ({poll['polls_per_s']} /s), "
          f"errors {poll['errors']}")  # fmt: skip
    print(f"poll latency             p50 {poll['p50_ms']} ms, p95 {poll['p95_ms']} ms "
          f"(target < 200), p99 {poll['p99_ms']} ms")  # fmt: skip
    tp = poll["trivial"]
    print(f"  /livez polled the same p50 {tp['p50_ms']} ms, p95 {tp['p95_ms']} ms, "
          f"p99 {tp['p99_ms']} ms, errors {tp['errors']}")  # fmt: skip
    print(f"database transactions    {poll['transactions']:>10}   "
          f"({poll['queries_per_poll']:g} per poll; autovacuum during: "
          f"{poll['autovacuum_during'] or 'none'})")  # fmt: skip
    results.write_json(
        args.json_out,
        {
            "members": args.members,
            "units": args.units,
            "gunicorn_workers": args.workers,
            **flash,
            "poll": poll,
            "phases_s": phases.seconds,
            "load_average": results.load_average(),
        },
    )


if __name__ == "__main__":
    main()
