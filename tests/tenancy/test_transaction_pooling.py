"""Row-level security behind PgBouncer in transaction mode (docs/scaling.md): with
DATABASE_POOL_MODE=transaction the organization is set in every transaction, so clients that
share one server connection never see each other's organization. Runs a real PgBouncer
(Debian's package) in front of the test database, with one server connection for all clients."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from django.db import connections

from tenancy.pgbackend.base import DatabaseWrapper
from tenancy.scope import org_scope

from ..factories import MemberFactory

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.pgbouncer,
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pgbouncer():
    """A PgBouncer in transaction mode with a single server connection; yields its port."""
    app = connections["default"].settings_dict
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="qy-pgbouncer-")
    # PgBouncer drops root for the postgres user, who must read these
    os.chmod(folder, 0o755)  # noqa: S103
    users = os.path.join(folder, "users.txt")
    ini = os.path.join(folder, "pgbouncer.ini")
    with open(users, "w") as f:
        f.write(f'"{app["USER"]}" ""\n')
    with open(ini, "w") as f:
        f.write(
            "[databases]\n"
            f"{app['NAME']} = host={app['HOST'] or '127.0.0.1'} port={app['PORT'] or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\ndefault_pool_size = 1\nmin_pool_size = 0\n"
            "max_client_conn = 50\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
    for path in (users, ini):
        os.chmod(path, 0o644)
    command = [PGBOUNCER, ini]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
    log = open(os.path.join(folder, "pgbouncer.log"), "w+b")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"PgBouncer did not start: {log.read()!r}") from None
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


def _client(port: int, mode: str) -> DatabaseWrapper:
    """A Django connection through PgBouncer, as settings make one for DATABASE_POOL_MODE."""
    settings = dict(connections["default"].settings_dict)
    settings.update(
        HOST="127.0.0.1",
        PORT=port,
        POOL_MODE=mode,
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,
        DISABLE_SERVER_SIDE_CURSORS=True,
        OPTIONS={**settings.get("OPTIONS", {}), "prepare_threshold": None},
    )
    return DatabaseWrapper(settings, alias=f"pooled-{mode}")


def _names(client) -> list[str]:
    with client.cursor() as cursor:
        cursor.execute("SELECT display_name FROM members_member ORDER BY display_name")
        return [row[0] for row in cursor.fetchall()]


def _backend_pid(client) -> int:
    with client.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def people(org_a, org_b):
    MemberFactory(organization=org_a.org, display_name="A 的群友")
    MemberFactory(organization=org_b.org, display_name="B 的群友")


def test_clients_sharing_one_server_connection_see_only_their_organization(
    pgbouncer, people, org_a, org_b
):
    first, second = _client(pgbouncer, "transaction"), _client(pgbouncer, "transaction")
    try:
        assert _backend_pid(first) == _backend_pid(second)  # one server connection for both
        with org_scope(org_a.org):
            assert _names(first) == ["A 的群友"]
        with org_scope(org_b.org):
            assert _names(second) == ["B 的群友"]
        assert _names(first) == []  # outside a scope: nothing, whatever ran before
        with org_scope(org_a.org):
            first.set_autocommit(False)  # as atomic() does: set once in the transaction
            assert _names(first) == ["A 的群友"]
            assert _names(first) == ["A 的群友"]
            first.commit()
            first.set_autocommit(True)
        assert _names(second) == []  # the committed transaction left nothing behind
        with org_scope(org_b.org):
            assert _names(second) == ["B 的群友"]
        with org_scope(org_a.org):
            first.set_autocommit(False)
            assert _names(first) == ["A 的群友"]
            first.rollback()
            assert _names(first) == ["A 的群友"]  # a new transaction: set again
            first.commit()
            first.set_autocommit(True)
    finally:
        first.close()
        second.close()


def test_session_mode_would_leak_there_which_is_why_the_mode_exists(
    pgbouncer, people, org_a, org_b
):
    first, second = _client(pgbouncer, "session"), _client(pgbouncer, "session")
    try:
        with org_scope(org_a.org):
            assert _names(first) == ["A 的群友"]
        with org_scope(org_b.org):
            assert _names(second) == ["B 的群友"]
        with org_scope(org_a.org):
            # the first client believes its session holds A; the server connection holds B
            assert _names(first) == ["B 的群友"]
    finally:
        first.close()
        second.close()


def test_parallel_clients_in_both_organizations_never_cross(pgbouncer, people, org_a, org_b):
    expected = {org_a.org.pk: ["A 的群友"], org_b.org.pk: ["B 的群友"]}
    wrong: list = []
    errors: list = []

    def work(org):
        client = _client(pgbouncer, "transaction")
        try:
            for round_ in range(25):
                with org_scope(org):
                    if round_ % 3 == 0:
                        client.set_autocommit(False)
                        seen = _names(client)
                        client.commit()
                        client.set_autocommit(True)
                    else:
                        seen = _names(client)
                if seen != expected[org.pk]:
                    wrong.append((org.pk, seen))
                if _names(client) != []:
                    wrong.append((None, "a value outlived its transaction"))
        except Exception as exc:  # noqa: BLE001 - reported below, with the thread's organization
            errors.append((org.pk, repr(exc)))
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(org,)) for org in [org_a.org, org_b.org] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert wrong == []
