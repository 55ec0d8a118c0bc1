"""The environment of a bench process, set before Django starts, and Django set up on the bench
database.

- `DATABASE_URL`: the bench database, default `postgres://postgres@127.0.0.1:5432/qunyun_bench`
  (the metrics benchmark's default is `qunyun_bench_metrics`); created and migrated if missing.
- `BENCH_REDIS_URL`: the benchmarks' Redis database (cache and Celery broker of the servers and
  workers they start; emptied by `make bench` at the start), default `redis://127.0.0.1:6379/10`.
  The test suite uses another one; two bench runs at once need two.
- Settings: DEBUG off, TESTING (fast password hashing, no SSL redirect), no mail sent, the API
  throttle out of the way. Alone, a script keeps Redis off (in-memory cache and broker) unless
  `REDIS_URL` is set; `make bench` sets it to `BENCH_REDIS_URL`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qunyun_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"

SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "TESTING": "1",  # fast password hashing, no SSL redirect
    "SECRET_KEY": SECRET_KEY,
}
DEFAULTS = {
    "REDIS_URL": "",
    "CELERY_BROKER_URL": "memory://",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    # small batches or many clients would otherwise meet the per-key limit
    "API_THROTTLE_RATE": "1000000/min",
    "LOG_LEVEL": "WARNING",
    "EMAIL_URL": "dummymail://",
}


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def settings_env(base, default_url: str = DEFAULT_DATABASE_URL) -> dict:
    """`base` (an environment) with the bench settings: for a process started by one that
    did not configure itself (`make bench`'s Celery worker)."""
    out = dict(base)
    out.setdefault("DATABASE_URL", default_url)
    out.update(SETTINGS)
    for name, value in DEFAULTS.items():
        out.setdefault(name, value)
    return out


def configure(default_url: str = DEFAULT_DATABASE_URL, *, postgres: bool = True) -> str:
    """Set the environment of a bench process; returns the database URL."""
    os.environ.update(settings_env(os.environ, default_url))
    url = os.environ["DATABASE_URL"]
    if postgres and urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"This benchmark needs PostgreSQL; DATABASE_URL is {url!r}.\n"
            f"Set DATABASE_URL to a postgres:// URL, e.g. {DEFAULT_DATABASE_URL}"
        )
    return url


def libpq_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    """The server's `postgres` database: for what must not run in the bench database."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _maintenance(url: str):
    import psycopg

    return psycopg.connect(
        libpq_url(maintenance_url(url)),
        autocommit=True,
        connect_timeout=5,
    )


def ensure_database(url: str) -> None:
    from psycopg import sql

    name = database_name(url)
    if not name:
        sys.exit(f"DATABASE_URL names no database: {url!r}")
    with _maintenance(url) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", flush=True)


def clone_database(url: str, template: str) -> bool:
    """Create the database of `url` as a copy of the (migrated) database `template`, which
    nobody may be connected to; False if that could not be done (then `ensure_database` and
    the migrations make it from scratch)."""
    import psycopg
    from psycopg import sql

    try:
        with _maintenance(url) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(database_name(url)), sql.Identifier(template)
                )
            )
    except psycopg.Error as exc:
        print(f"could not copy {template}: {exc}", flush=True)
        return False
    return True


def drop_database(url: str) -> None:
    """Drop a bench database (its connections too): the tiny run's, after it."""
    from psycopg import sql

    with _maintenance(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )


def setup_django(default_url: str = DEFAULT_DATABASE_URL, *, migrate: bool = True) -> str:
    """The environment, the database (created if missing), django.setup() and migrations.
    Returns the database URL."""
    url = configure(default_url)
    ensure_database(url)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"This benchmark needs PostgreSQL, not {connection.vendor}.")
    if migrate:
        call_command("migrate", verbosity=0)
    return url
