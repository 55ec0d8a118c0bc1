"""Every benchmark at `--scale tiny`, in `make test`: the bench cannot rot unnoticed.

Runs `python -m bench.run_all --scale tiny --fresh --no-doc` on the real stack (gunicorn, a
Celery worker, PostgreSQL, Redis) against a database of its own, created for the run and
dropped after it (a copy of the suite's migrated test database, which saves the migrations'
time), with the suite's Redis database as the benchmarks' one. It asserts no
figure (a shared 2-core machine makes them meaningless at this size), only that every
benchmark completes and that its correctness checks hold (0 oversold units, no duplicate
posts, the rollups equal to the raw aggregate, the dormant counts agreeing, no errors under
load; bench/lib/figures.py). Its results go to a temporary folder: docs/performance.md and
bench/results/ are left alone. About a minute of CPU in its own processes; 2 to 3 minutes of
wall time on a shared 2-core machine.

The database is `<DATABASE_URL's name>_benchtiny`, or BENCH_TINY_DATABASE_URL; set
BENCH_TINY_KEEP=1 to keep it after the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "bench" / "results"
TIMEOUT = 900


def bench_database_url(variable: str = "DATABASE_URL") -> str:
    if os.environ.get("BENCH_TINY_DATABASE_URL") and variable == "DATABASE_URL":
        return os.environ["BENCH_TINY_DATABASE_URL"]
    parts = urlsplit(os.environ.get(variable) or os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_benchtiny"))


def fingerprint(path: Path):
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


# transaction=True: the suite's test database is set up, and not held in a transaction
@pytest.mark.django_db(transaction=True)
def test_every_benchmark_completes_at_tiny_scale_and_its_checks_hold(tmp_path):
    from django.db import connection

    from bench.lib import env
    from bench.lib.plan import PLAN

    url = bench_database_url()
    assert env.database_name(url) != env.database_name(os.environ["DATABASE_URL"])
    redis = os.environ["REDIS_URL"]
    untouched = {path: fingerprint(path) for path in (DOC, RESULTS / "latest.json")}
    child_env = {
        **os.environ,
        "DATABASE_URL": url,
        # the system role, on the same bench database (tenancy/system.py)
        "SYSTEM_DATABASE_URL": bench_database_url("SYSTEM_DATABASE_URL")
        if not os.environ.get("BENCH_TINY_DATABASE_URL")
        else url,
        "BENCH_REDIS_URL": redis,
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "bench.run_all", "--scale", "tiny", "--fresh", "--no-doc"]
    cmd += ["--results-dir", str(tmp_path)]
    env.drop_database(url)  # a clean start
    # A copy of the suite's migrated test database saves migrating from scratch (the suite
    # just did that); without it, the bench creates and migrates its database itself.
    template = connection.settings_dict["NAME"]
    connection.close()  # nobody may be connected to a template
    env.clone_database(url, template)
    try:
        run = subprocess.run(
            cmd,
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        if os.environ.get("BENCH_TINY_KEEP") != "1":
            env.drop_database(url)

    assert run.returncode == 0, f"make bench --scale tiny failed:\n{run.stdout[-8000:]}"
    result = json.loads((tmp_path / "latest.json").read_text())
    steps = {name: s for name, s in result["steps"].items() if not name.startswith("_")}
    assert set(steps) == set(PLAN)
    assert all(step["rc"] == 0 and step["json"] for step in steps.values())
    broken = [f"{c['benchmark']}: {c['check']}" for c in result["checks"] if not c["ok"]]
    assert not broken, f"checks that did not hold: {broken}"
    checked = {c["benchmark"] for c in result["checks"]}
    assert set(PLAN) <= checked, f"benchmarks without a check: {set(PLAN) - checked}"
    assert {path: fingerprint(path) for path in untouched} == untouched, (
        "the tiny run wrote docs/performance.md or bench/results/latest.json"
    )
