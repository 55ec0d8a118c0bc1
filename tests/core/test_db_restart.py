"""A PostgreSQL restart costs no request (issue 19, item 14): with persistent connections
(CONN_MAX_AGE) and CONN_HEALTH_CHECKS, a gunicorn worker whose connection died with the server
opens a new one instead of answering 500.

Tested for real, on a private PostgreSQL cluster (initdb into a temporary folder, a free port),
never on the shared one: gunicorn with two workers, requests that use the database on every
worker, `pg_ctl restart`, then requests again: 0 errors. While the cluster is stopped, /livez
stays 200 and /readyz answers 503 (issue 21, item 12).
"""

import concurrent.futures
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
UNKNOWN_KEY = "qy_00000000_" + "x" * 43  # shaped like a key: authentication asks the database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not BIN, reason="no initdb under /usr/lib/postgresql/*/bin"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: as root, run them as `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PrivateCluster:
    def __init__(self):
        self.bin = Path(BIN[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="qunyun-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            _as_owner([str(self.bin / tool), *args]), check=True, capture_output=True, timeout=60
        )

    def pg_ctl(self, action: str, *args: str) -> None:
        log = str(self.dir / "server.log")
        self.run("pg_ctl", action, "-D", str(self.data), "-w", "-l", log, *args)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster(db):
    """A running private cluster with the suite's schema (copied from the test database)."""
    pg = PrivateCluster()
    try:
        pg.pg_ctl("start", "-o", pg.options)
        settings = connection.settings_dict
        schema = subprocess.run(
            ["pg_dump", "-s", "--no-owner", "--no-privileges", "-h", settings["HOST"]]
            + ["-p", str(settings["PORT"]), "-U", settings["USER"], settings["NAME"]],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", pg.url()],
            input=schema,
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def server(cluster):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=cluster.url(),
        SYSTEM_DATABASE_URL=cluster.url(),
        CONN_MAX_AGE="600",  # persistent connections, the case the health checks are for
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        TESTING="1",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        API_AUTH_FAILURE_RATE="10000/min",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/livez", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _burst(base: str, n: int = 16) -> list:
    """Concurrent requests that use the database (so both workers do): their outcomes."""

    def one(i):
        try:
            if i % 2:
                return requests.get(base + "/readyz", timeout=30).status_code
            headers = {"Authorization": f"Bearer {UNKNOWN_KEY}"}
            return requests.get(base + "/api/v1/me/", headers=headers, timeout=30).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def _errors(outcomes: list) -> list:
    return [o for o in outcomes if o not in (200, 401)]


def test_a_database_restart_costs_no_request(cluster, server):
    assert _errors(_burst(server)) == []  # every worker holds a connection now

    cluster.pg_ctl("stop", "-m", "fast")
    assert requests.get(server + "/livez", timeout=30).status_code == 200  # alive, no database
    down = requests.get(server + "/readyz", timeout=30)
    assert down.status_code == 503 and down.json()["status"] == "error"

    cluster.pg_ctl("start", "-o", cluster.options)
    outcomes = _burst(server, 24)
    assert _errors(outcomes) == [], outcomes

    # and a restart in one step, while the workers' connections sit idle
    cluster.pg_ctl("restart", "-m", "fast", "-o", cluster.options)
    outcomes = _burst(server, 24)
    assert _errors(outcomes) == [], outcomes
