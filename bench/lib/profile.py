"""One in-process request under the microscope: its queries with their times, a cProfile, and
EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECTs. For a benchmark that missed its target."""

from __future__ import annotations

import cProfile
import io
import pstats
import time

from . import db


def profile_request(raw_key: str, path: str, database_url: str | None = None) -> None:
    from django.test import Client

    profile_client(Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}"), path, database_url)


def profile_client(client, path: str, database_url: str | None = None) -> None:
    """The same for any test client (an API key's, or a logged-in user's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(path)  # warm up this process
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        client.get(path)
        plain = time.perf_counter() - t0
    captured = list(queries.captured_queries)  # the next request resets the log
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path)
    profiler.disable()
    sql_ms = 1000 * sum(float(q["time"]) for q in captured)
    print(f"\n--- profile of GET {path} in-process ---")
    print(
        f"one request {1000 * plain:.1f} ms, {len(captured)} queries, {sql_ms:.1f} ms in SQL "
        "(Django's timer: driver round trip and fetch)"
    )
    slowest = sorted(captured, key=lambda q: -float(q["time"]))
    for q in slowest[:10]:
        print(f"  {1000 * float(q['time']):7.1f} ms  {q['sql'][:150]}")
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    print(stream.getvalue())
    print("--- EXPLAIN ANALYZE of the slowest SELECTs ---")
    selects = [
        q["sql"]
        for q in slowest
        if q["sql"].lstrip().upper().startswith("SELECT") and "set_config" not in q["sql"]
    ]
    with db.connect(database_url) as conn:
        for sql in selects[:4]:
            print(f"\n{sql[:300]}")
            try:
                for (line,) in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql):
                    print("   ", line)
            except Exception as exc:  # a query Django logged with un-replayable literals
                print(f"    (could not explain: {exc})")
