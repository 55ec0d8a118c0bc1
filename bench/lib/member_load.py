"""Load from many members at once for bench/member_pages.py: plain HTTP requests (a new
connection each, as a phone's would be to sync gunicorn workers, which close after each
response), waves of threads released together by a barrier, pollers at a fixed cadence, and
the transactions PostgreSQL counted in one database (pg_stat_database)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field

from .results import percentile

# 1,000 threads: small stacks (they only wait on sockets)
threading.stack_size(512 * 1024)

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Answer:
    status: int
    location: str = ""
    cookies: dict = field(default_factory=dict)
    body: bytes = b""


def request(port: int, method: str, path: str, *, cookies=None, form=None, timeout=600):
    """One request on a fresh connection; redirects are not followed (their Location is the
    answer)."""
    headers = {}
    body = None
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if form is not None:
        from urllib.parse import urlencode

        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        jar = {}
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, response.getheader("Location", ""), jar, data)
    finally:
        conn.close()


def csrf_token(answer: Answer) -> str:
    found = CSRF_INPUT.search(answer.body)
    return found.group(1).decode() if found else ""


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def latency(samples: list[float]) -> dict:
    ordered = sorted(samples)
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1]),
    }


def wave(n: int, act, prepare=None) -> dict:
    """`n` threads: each runs `prepare(i)` (untimed), waits at a barrier, then all run
    `act(i, prepared)` at once; returns each outcome (a string), the latency of each act,
    the wall time from the release to the last answer, and the rate."""
    barrier = threading.Barrier(n + 1)
    outcomes: list = [None] * n
    seconds: list = [0.0] * n
    ends: list = [0.0] * n

    def run(i):
        try:
            prepared = prepare(i) if prepare else None
        except Exception as exc:  # noqa: BLE001 - an error is an outcome to count
            prepared = exc
        barrier.wait()
        t0 = time.perf_counter()
        try:
            if isinstance(prepared, Exception):
                raise prepared
            outcomes[i] = act(i, prepared)
        except Exception as exc:  # noqa: BLE001
            outcomes[i] = f"error: {type(exc).__name__}"
        ends[i] = time.perf_counter()
        seconds[i] = ends[i] - t0

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    prep_started = time.perf_counter()
    for t in threads:
        t.start()
    barrier.wait()
    released = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(ends) - released
    return {
        "attempts": n,
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "prepare_s": round(released - prep_started, 2),
        "wall_s": round(wall, 3),
        "per_s": round(n / wall, 1),
        **latency(seconds),
    }


def poll(n: int, interval: float, duration: float, fetch) -> dict:
    """`n` pollers, each calling `fetch(i)` (True: a good answer) every `interval` seconds for
    `duration` seconds, their first polls spread evenly over the first interval."""
    lock = threading.Lock()
    samples: list[float] = []
    errors = [0]
    start = time.perf_counter() + 0.5
    end = start + duration

    def run(i):
        at = start + interval * i / n
        while at < end:
            time.sleep(max(0.0, at - time.perf_counter()))
            t0 = time.perf_counter()
            try:
                good = fetch(i)
            except Exception:  # noqa: BLE001 - an error to count
                good = False
            took = time.perf_counter() - t0
            with lock:
                samples.append(took)
                errors[0] += not good
            at += interval

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {
        "pollers": n,
        "interval_s": interval,
        "duration_s": duration,
        "polls": len(samples),
        "errors": errors[0],
        "polls_per_s": round(len(samples) / wall, 1),
        **latency(samples),
    }


# --- what PostgreSQL counted ------------------------------------------------------------------


def transactions(maintenance, database: str) -> int:
    """Transactions committed and rolled back in `database`, by every client, as PostgreSQL's
    cumulative statistics say (read from a connection to another database, so reading does
    not count). Django runs in autocommit: every query outside an atomic block is one
    transaction, an atomic block with its queries is one; opening a connection without a
    query is none. Autovacuum's transactions in that database count too (see `vacuum_due`).
    A backend publishes its counts when it goes idle, at most once a second (otherwise within
    10 s), and when it exits: read after the servers closed their connections."""
    row = maintenance.execute(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
        [database],
    ).fetchone()
    return int(row[0])


def vacuum_due(conn) -> list[str]:
    """VACUUM ANALYZE the tables autovacuum would pick next (with its default thresholds), so
    that it does not run, and count, during a measured phase. Returns their names."""
    due = [
        r[0]
        for r in conn.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND ("
            " s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)"
            " OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0)"
            " OR s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0))"
        )
    ]
    for name in due:
        conn.execute(f'VACUUM ANALYZE "{name}"')
    return due


def autovacuum_since(conn, since) -> list[str]:
    """Tables autovacuum vacuumed or analyzed since `since` (a timestamp from the server)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND greatest(last_autovacuum, last_autoanalyze) >= %s",
            [since],
        )
    ]
