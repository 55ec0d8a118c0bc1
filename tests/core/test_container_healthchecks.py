"""The containers' healthchecks (issue 21, item 12), run for real: the commands written in
docker-compose.yml and the Dockerfile, against a real beat and a real worker process."""

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **extra)
    return env


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_web_liveness_is_livez_and_worker_and_beat_have_healthchecks():
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "http://127.0.0.1:8000/livez" in healthcheck.split("CMD", 1)[1].splitlines()[0]
    services = COMPOSE["services"]
    for name in ("worker", "beat"):
        check = services[name].get("healthcheck", {})
        assert not check.get("disable") and check.get("test"), name


def test_the_beat_healthcheck_passes_while_beat_runs_and_fails_once_it_stopped(tmp_path):
    check = COMPOSE["services"]["beat"]["healthcheck"]["test"]
    assert check[:4] == ["CMD", "python", "-m", "config.beat"]
    compose_file, max_age = check[4], float(check[5])
    assert COMPOSE["services"]["beat"]["environment"]["CELERY_BEAT_HEARTBEAT_FILE"] == compose_file
    heartbeat = tmp_path / "heartbeat"
    command = [sys.executable, "-m", "config.beat", str(heartbeat), str(max_age)]
    assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 1  # no beat yet

    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning"]
        + ["--schedule", str(tmp_path / "schedule")],
        cwd=ROOT,
        env=_env(CELERY_BROKER_URL="memory://", CELERY_BEAT_HEARTBEAT_FILE=str(heartbeat)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 40
        while not heartbeat.exists() and time.monotonic() < deadline and beat.poll() is None:
            time.sleep(0.2)
        assert heartbeat.exists(), beat.stderr.read().decode() if beat.poll() is not None else ""
        assert subprocess.run(command, cwd=ROOT).returncode == 0
    finally:
        _stop(beat)
        beat.stderr.close()
    time.sleep(1.5)
    stale = [sys.executable, "-m", "config.beat", str(heartbeat), "1"]
    assert subprocess.run(stale, cwd=ROOT, capture_output=True).returncode == 1


@pytest.mark.redis
def test_the_worker_healthcheck_pings_the_running_worker_and_fails_without_it():
    check = COMPOSE["services"]["worker"]["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL"
    node = f"hc-{uuid.uuid4().hex[:8]}"
    # compose's `$$HOSTNAME` is the shell's $HOSTNAME, the worker's default node name's host
    argv = shlex.split(check[1].replace("$$HOSTNAME", node))
    assert argv[:4] == ["celery", "-A", "config", "inspect"]
    ping = [sys.executable, "-m", *argv]
    ping[ping.index("--timeout") + 1] = "3"
    broker = os.environ["REDIS_URL"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", f"celery@{node}"]
        + ["-Q", f"hc-{node}", "--pool", "solo", "-l", "warning", "--without-mingle"]
        + ["--without-gossip"],
        cwd=ROOT,
        env=_env(CELERY_BROKER_URL=broker),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(ping, cwd=ROOT, env=_env(CELERY_BROKER_URL=broker))
            if result.returncode == 0 or time.monotonic() > deadline or worker.poll() is not None:
                break
        assert result.returncode == 0
    finally:
        _stop(worker)
    result = subprocess.run(ping, cwd=ROOT, env=_env(CELERY_BROKER_URL=broker), capture_output=True)
    assert result.returncode != 0
