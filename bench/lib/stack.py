"""The real stack for the benchmarks: PostgreSQL and Redis up, gunicorn and a Celery worker
started and stopped (only the processes started here, by their process group), and the memory
of their processes read from /proc (no psutil). Ports are free ones picked by the kernel."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .app import WORKER_QUEUES
from .env import ROOT, redis_url

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


def _redis_command(url: str, *commands: str) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3) as s:
        s.sendall("".join(f"{c}\r\n" for c in commands).encode())
        time.sleep(0.1)
        return s.recv(256)


def redis_ready(url: str | None = None) -> bool:
    try:
        return _redis_command(url or redis_url(), "PING").startswith(b"+PONG")
    except OSError:
        return False


def _wait(ready, what: str) -> None:
    for _ in range(30):
        if ready():
            return
        time.sleep(1)
    sys.exit(f"{what} did not start.")


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
        _wait(postgres_ready, "PostgreSQL")
    if not redis_ready():
        if not shutil.which("redis-server"):
            sys.exit("Redis does not answer on 127.0.0.1:6379 and redis-server is not installed.")
        print("== starting Redis", flush=True)
        cmd = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"]
        subprocess.run(_as_root([*cmd, "--save", "", "--appendonly", "no"]), check=False)
        _wait(redis_ready, "Redis")


def flush_bench_redis() -> None:
    """Empty the benchmarks' Redis database (BENCH_REDIS_URL, only that one): no stale tasks
    or cache entries from a run that was interrupted."""
    db = urlsplit(redis_url()).path.lstrip("/") or "0"
    _redis_command(redis_url(), f"SELECT {int(db)}", "FLUSHDB")


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, redis: bool = True, base: dict | None = None, **extra) -> dict:
    """The environment of a bench server or worker: `base` or this process's (set by
    env.configure), plain-HTTP cookies (no TLS in front) and, with `redis`, the benchmarks'
    Redis database as cache and broker."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    if redis:
        env.update({"REDIS_URL": redis_url(), "CELERY_BROKER_URL": redis_url()})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _start(cmd: list[str], log, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def start_gunicorn(port: int, log, *, workers: int = 3, env: dict | None = None):
    """gunicorn as the image runs it (sync workers; WEB_CONCURRENCY defaults to 3); a slow
    request is a figure to print, not a worker to kill."""
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    cmd += ["--timeout", "600", "--log-level", "warning"]
    return _start(cmd, log, env or server_env())


def wait_healthy(proc, port: int, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    print(Path(log_path).read_text(errors="replace")[-3000:], file=sys.stderr)
    raise SystemExit("gunicorn did not become healthy (its log is above)")


@contextmanager
def gunicorn(*, workers: int = 2, env: dict | None = None, name: str = "gunicorn"):
    """A healthy gunicorn on a free port for the block: yields (process, port, log path);
    stopped afterwards. Its log goes to a temporary file, shown if it fails to start."""
    port = free_port()
    with tempfile.NamedTemporaryFile("w+", prefix=f"bench-{name}-", suffix=".log") as log:
        proc = start_gunicorn(port, log, workers=workers, env=env)
        try:
            wait_healthy(proc, port, log.name)
            yield proc, port, log.name
        finally:
            stop(proc)


def start_celery_worker(log, *, env: dict | None = None):
    """One Celery worker consuming every queue, as `make run` and compose start it (solo pool:
    one task at a time, in the worker process itself, so its memory is the worker's)."""
    env = dict(env or server_env())
    env["LOG_LEVEL"] = "INFO"  # its "Task … succeeded in …" lines are read by the benchmarks
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", WORKER_QUEUES]
    cmd += ["--pool", "solo", "--concurrency", "1", "--loglevel", "INFO"]
    cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return _start(cmd, log, env)


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
