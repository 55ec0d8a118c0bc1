"""Which test services answer? Prints shell `export` lines for the ones that do.

PostgreSQL and Redis at 127.0.0.1 are used when they answer; otherwise the suite runs on
SQLite and says so loudly. With REQUIRE_SERVICES=1 a missing service is an error.

On PostgreSQL the suite does not connect as the administrator in TEST_DATABASE_URL (a superuser
skips row-level security): it creates, as that administrator, the two roles of production
(docs/deployment.md, "Database roles") and connects as them:

- `<db>_app`: NOSUPERUSER NOBYPASSRLS NOCREATEROLE, CREATEDB (to create the test database,
  which it then owns); DATABASE_URL;
- `<db>_system`: NOSUPERUSER BYPASSRLS, a member of `<db>_app` for its table privileges;
  SYSTEM_DATABASE_URL, used by the system jobs (tenancy/system.py) and their tests.
"""

import os
import socket
import sys

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qunyun")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def role_urls(url: str = PG_URL) -> tuple[str, str]:
    """The URLs of the application's and the system role for the database of `url`."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 5432
    return (
        f"postgres://{name}_app@{host}:{port}/{name}",
        f"postgres://{name}_system@{host}:{port}/{name}",
    )


def _create_roles(conn, name: str) -> None:
    from psycopg import errors, sql

    app, system = sql.Identifier(f"{name}_app"), sql.Identifier(f"{name}_system")
    for role, attributes in (
        (app, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE CREATEDB"),
        (system, "LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB"),
    ):
        try:
            conn.execute(sql.SQL("CREATE ROLE {} " + attributes).format(role))
        except errors.DuplicateObject:  # made by an earlier run: make sure of its attributes
            conn.execute(sql.SQL("ALTER ROLE {} " + attributes).format(role))
    conn.execute(sql.SQL("GRANT {} TO {}").format(app, system))
    # databases left by runs that connected as the administrator belong to the app role now
    for db in (name, f"test_{name}"):
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [db]
        ).fetchone()
        if owner is None and db == name:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), app))
        elif owner is not None and owner[0] != f"{name}_app":
            if db == name:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), app)
                )
            else:  # a test database Django would have to drop: its objects are not the role's
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))


def _postgres_ok() -> bool:
    try:
        import psycopg

        admin_url, _, name = PG_URL.rpartition("/")
        with psycopg.connect(f"{admin_url}/postgres", connect_timeout=3, autocommit=True) as conn:
            _create_roles(conn, name)
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
    app_url, system_url = role_urls() if pg else ("sqlite:///var/test.sqlite3",) * 2
    print(f"export DATABASE_URL={app_url}")
    print(f"export SYSTEM_DATABASE_URL={system_url}")
    print(f"export REDIS_URL={REDIS_URL if redis else ''}")
    print(f"export CELERY_BROKER_URL={REDIS_URL if redis else 'memory://'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
