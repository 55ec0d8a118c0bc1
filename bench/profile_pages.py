"""Each dashboard page of the synthetic organization, in-process, for an owner and a deputy:
median time, query count and time in SQL; `--detail NAME` adds the queries, a cProfile and
EXPLAIN of one page. For finding where a page's time goes; asserts nothing.

    uv run python -m bench.profile_pages --scale small
    uv run python -m bench.profile_pages --scale default --detail calendar --who owner

Needs the synthetic organization of that scale in the bench database (DATABASE_URL); the
cache is a local in-memory one unless REDIS_URL is set.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/profile_pages.py`: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import statistics
import time

from bench.lib import env
from bench.lib.plan import SCALES


def _measure(client, path: str, repeat: int) -> tuple[float, int, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm up this process
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t0)
    sql_ms = 1000 * sum(float(q["time"]) for q in queries.captured_queries)
    return 1000 * statistics.median(times), len(queries), sql_ms, response.status_code


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--detail", help="page name: its queries, cProfile and EXPLAIN")
    parser.add_argument("--who", choices=["owner", "deputy"], default="owner")
    args = parser.parse_args()

    database_url = env.setup_django()
    from django.test import Client

    from bench.dashboard_load import pages_for
    from bench.datasets import synthetic
    from bench.lib import app
    from bench.lib.profile import profile_client

    dataset = synthetic.ensure(SCALES[args.scale])
    people = {
        "owner": next(u for u in dataset.users if u["role"] == "owner"),
        "deputy": next(u for u in dataset.users if u["role"] == "deputy"),
    }
    for who, person in people.items():
        if args.detail and who != args.who:
            continue
        client = Client()
        client.force_login(app.User.objects.get(email=person["email"]))
        pages = pages_for(dataset, person)
        if args.detail:
            profile_client(client, pages[args.detail], database_url)
            continue
        print(f"\n{who} ({person['email']}, {len(person['communities']) or 'all'} groups)")
        for name, path in pages.items():
            ms, n, sql_ms, status = _measure(client, path, args.repeat)
            print(f"  {name:<24} {ms:7.1f} ms  {n:3d} queries  {sql_ms:7.1f} ms SQL  {status}")


if __name__ == "__main__":
    main()
