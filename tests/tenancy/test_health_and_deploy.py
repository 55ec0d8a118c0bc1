import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    body = response.json()
    assert body["database"]["ok"] is True
    assert "ok" in body["broker"]
    assert response.status_code == 200  # only a database that does not answer is a 503


@pytest.mark.redis
def test_healthz_with_real_redis_broker(client, db, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    body = client.get("/healthz").json()
    assert body["broker"] == {"ok": True, "transport": "redis"}


def test_healthz_reports_a_dead_broker_as_degraded_not_down(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    # the instance still serves pages and ingestion: a load balancer must keep it
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and "broker" in body["degraded"]
    assert body["broker"]["ok"] is False
    assert client.get("/healthz?strict=1").status_code == 503  # for monitors that alert on it


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 20 + "-production-secret-with-enough-entropy-0123456789-xyz",
    "ALLOWED_HOSTS": "qunyun.example.com",
    "DATABASE_URL": "sqlite:////tmp/qunyun-deploy-check.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "BEHIND_TLS_PROXY": "1",
}


def _check_deploy(**extra):
    # the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for themselves; production never does
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PRODUCTION_ENV, **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values_and_preload_opted_in():
    result = _check_deploy(SECURE_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_opting_in_to_preload_the_one_security_remark_is_w021_as_documented():
    result = _check_deploy()
    output = result.stdout + result.stderr
    remarks = re.findall(r"\((security\.\w+)\)", output)
    assert remarks == ["security.W021"], output


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "SECRET_KEY")}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
