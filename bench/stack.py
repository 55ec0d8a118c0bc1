"""The real stack for the benchmarks: PostgreSQL and Redis up, gunicorn and a Celery worker
started and stopped, and the memory of their processes read from /proc (no psutil).

Redis db 10 is the benchmarks' (cache and Celery broker); the test suite uses db 15.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_REDIS_URL = "redis://127.0.0.1:6379/10"
WORKER_QUEUES = "default,metrics,delivery,imports"  # settings.WORKER_QUEUES: one worker, all


# --- services -------------------------------------------------------------------------------


def _as_root(cmd: list[str]) -> list[str]:
    return cmd if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo", *cmd]


def postgres_ready() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=3):
            pass
    except OSError:
        return False
    if shutil.which("pg_isready"):
        return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0
    return True


def redis_ready() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_services() -> None:
    """Start PostgreSQL and Redis on 127.0.0.1 if they do not answer (as .ci/run does)."""
    if not postgres_ready():
        clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not clusters:
            sys.exit("PostgreSQL does not answer on 127.0.0.1:5432 and no cluster to start.")
        print(f"== starting PostgreSQL {clusters[0]}", flush=True)
        subprocess.run(
            _as_root(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[0], "main", "start"]),
            check=False,
        )
        for _ in range(30):
            if postgres_ready():
                break
            time.sleep(1)
        else:
            sys.exit("PostgreSQL did not start.")
    if not redis_ready():
        if not shutil.which("redis-server"):
            sys.exit("Redis does not answer on 127.0.0.1:6379 and redis-server is not installed.")
        print("== starting Redis", flush=True)
        subprocess.run(
            _as_root(
                [
                    "redis-server",
                    "--daemonize",
                    "yes",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    "6379",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ]
            ),
            check=False,
        )
        for _ in range(30):
            if redis_ready():
                break
            time.sleep(1)
        else:
            sys.exit("Redis did not start.")


def flush_bench_redis() -> None:
    """Empty Redis db 10 (the benchmarks' own): no stale tasks or cache entries from a run
    that was interrupted."""
    with socket.create_connection(("127.0.0.1", 6379), timeout=3) as sock:
        sock.sendall(b"SELECT 10\r\nFLUSHDB\r\n")
        time.sleep(0.1)
        sock.recv(64)


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_env(**extra) -> dict:
    """The environment of a bench server or worker: the bench database, Redis db 10 for cache
    and broker, plain HTTP cookies (no TLS in front)."""
    env = os.environ.copy()
    env.update(
        {
            "REDIS_URL": BENCH_REDIS_URL,
            "CELERY_BROKER_URL": BENCH_REDIS_URL,
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_gunicorn(port: int, log, *, workers: int = 3, env: dict | None = None):
    """gunicorn as the image runs it (sync workers; WEB_CONCURRENCY defaults to 3)."""
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "600",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env or stack_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def bench_env(base: dict | None = None) -> dict:
    """What a bench process sets before Django starts (as ingest_events.configure_environment
    does), for a server or worker started from a process that has not set it up itself."""
    env = dict(base if base is not None else os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qunyun_bench")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "TESTING": "1",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "API_THROTTLE_RATE": "1000000/min",
        }
    )
    env.setdefault("EMAIL_URL", "dummymail://")
    return env


def start_celery_worker(log, *, env: dict | None = None):
    """One Celery worker consuming every queue, as `make run` and compose start it (solo pool:
    one task at a time, in the worker process itself, so its memory is the worker's)."""
    env = dict(env or stack_env())
    env["LOG_LEVEL"] = "INFO"  # its "Task … succeeded in …" lines are read by the benchmarks
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        WORKER_QUEUES,
        "--pool",
        "solo",
        "--concurrency",
        "1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (gunicorn's master stops its workers; Celery finishes its task), then SIGKILL
    of the process group we started (its own session), never anything else."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for_log(path: Path, needle: str, proc, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if needle in text:
            return text
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = path.read_text(errors="replace")[-3000:] if path.exists() else ""
    raise SystemExit(f"did not see {needle!r} in {path}:\n{tail}")


# --- memory ---------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def memory_kb(pid: int) -> dict:
    """VmRSS (now) and VmHWM (the peak resident set since the process started), in kB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out
