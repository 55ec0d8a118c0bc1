"""Which test services answer? Prints shell `export` lines for the ones that do.

PostgreSQL and Redis at 127.0.0.1 are used when they answer; otherwise the suite runs on
SQLite and says so loudly. With REQUIRE_SERVICES=1 a missing service is an error.
"""

import os
import socket
import sys

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qunyun")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _postgres_ok() -> bool:
    try:
        import psycopg

        admin_url, _, name = PG_URL.rpartition("/")
        with psycopg.connect(f"{admin_url}/postgres", connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:  # the tests use test_<name>; the base one keeps Django's checks quiet
                conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as exc:  # noqa: BLE001
        print(f"  PostgreSQL: {exc}", file=sys.stderr)
        return False


def _redis_ok() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError as exc:
        print(f"  Redis: {exc}", file=sys.stderr)
        return False


def main() -> int:
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    pg, redis = _postgres_ok(), _redis_ok()
    missing = [name for name, ok in (("PostgreSQL", pg), ("Redis", redis)) if not ok]
    if missing:
        bar = "!" * 72
        print(f"\n{bar}\n  NOT AVAILABLE: {', '.join(missing)} at 127.0.0.1", file=sys.stderr)
        if required:
            print(f"  REQUIRE_SERVICES=1: failing.\n{bar}\n", file=sys.stderr)
            return 1
        print(
            "  Running on SQLite / without Redis; tests that need them are SKIPPED.\n" + bar,
            file=sys.stderr,
        )
    print(f"export DATABASE_URL={PG_URL if pg else 'sqlite:///var/test.sqlite3'}")
    print(f"export REDIS_URL={REDIS_URL if redis else ''}")
    print(f"export CELERY_BROKER_URL={REDIS_URL if redis else 'memory://'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
