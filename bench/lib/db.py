"""psycopg connections for the set-based SQL of the data generators and the raw baselines,
outside Django's: purging a dataset, VACUUM ANALYZE, row counts."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from .env import libpq_url


def url() -> str:
    """The system role's URL where there is one: the generators write every organization's
    rows, which the application's role (row-level security, no bypass) may not."""
    return os.environ.get("SYSTEM_DATABASE_URL") or os.environ["DATABASE_URL"]


def connect(database_url: str | None = None):
    """An autocommit connection as the system role (BYPASSRLS) or the administrator."""
    import psycopg

    return psycopg.connect(libpq_url(database_url or url()), autocommit=True)


def is_superuser(conn) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


@contextmanager
def loading(database_url: str | None = None, *, seed: float | None = None):
    """A connection for generating data: foreign-key triggers skipped when we are a superuser
    (the rows are consistent by construction), no synchronous commit, room to sort."""
    with connect(database_url) as conn:
        if is_superuser(conn):
            conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        if seed is not None:
            conn.execute("SELECT setseed(%s)", [seed])
        yield conn


def tenant_tables(conn) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND column_name = 'organization_id' ORDER BY table_name"
        )
    ]


def purge(database_url: str | None, org, stale_prefix: str = "stale") -> None:
    """Remove an incomplete or unwanted dataset: every tenant row of the org, then the org.
    Without superuser rights (no way to skip the foreign-key order) the old org is renamed
    out of the way instead."""
    with connect(database_url) as conn:
        if not is_superuser(conn):
            stale = f"{stale_prefix}-stale-{int(time.time())}-{org.pk}"
            conn.execute("UPDATE tenancy_organization SET slug = %s WHERE id = %s", [stale, org.pk])
            print(f"not a superuser: left the old dataset in place as {stale}")
            return
        conn.execute("SET session_replication_role = replica")  # no FK checks, any order
        for table in tenant_tables(conn):
            conn.execute(f'DELETE FROM "{table}" WHERE organization_id = %s', [org.pk])
        conn.execute("DELETE FROM tenancy_organization WHERE id = %s", [org.pk])


def vacuum(database_url: str | None, tables) -> None:
    """What autovacuum would have done by the time anyone reads: statistics for the planner
    and the visibility map for index-only scans."""
    with connect(database_url) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


def count_rows(database_url: str | None, org_id: int, tables: dict[str, str]) -> dict[str, int]:
    """{name: rows of the org} for {name: "table" or "table WHERE-extra"}."""
    out = {}
    with connect(database_url) as conn:
        for name, spec in tables.items():
            table, _, extra = spec.partition(" ")
            out[name] = conn.execute(
                f"SELECT count(*) FROM {table} WHERE organization_id = %s {extra}", [org_id]
            ).fetchone()[0]
    return out
