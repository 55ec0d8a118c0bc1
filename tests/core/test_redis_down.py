"""Redis down does not take the API down (issue 19, item 13). Tested for real: a gunicorn
server started with REDIS_URL pointing where nothing listens, against the test database, and
driven over HTTP; plus the pieces (cache, task queueing, limiter) against the same address."""

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from celery import Celery

from core.cache import ResilientRedisCache
from members.models import Member
from tenancy.actors import Actor
from tenancy.services import api_key_create, organization_create
from tests.dbenv import child_database_env
from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:6390/15"  # nothing listens there


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_without_redis():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(child_database_env())
    env.update(
        REDIS_URL=UNREACHABLE_REDIS,
        CELERY_BROKER_URL=UNREACHABLE_REDIS,
        TESTING="1",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_SSL_REDIRECT="0",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/healthz", timeout=60)  # the first loads the app
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
        process.stderr.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_the_api_pages_and_ingestion_keep_working(server_without_redis):
    base = server_without_redis
    org = organization_create(
        name="无缓存",
        slug="no-redis",
        owner_email="owner@example.com",
        owner_password=TEST_PASSWORD,
    )
    _key, raw = api_key_create(actor=Actor.system(org, "tests"), name="bot")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {raw}"

    health = requests.get(base + "/healthz", timeout=30)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "degraded" and body["database"]["ok"]
    assert set(body["degraded"]) == {"broker", "cache", "rate_limits"}
    assert requests.get(base + "/healthz?strict=1", timeout=30).status_code == 503
    # the split probes (issue 21, item 12): alive, and ready but degraded; /healthz = /readyz
    live = requests.get(base + "/livez", timeout=30)
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = requests.get(base + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "degraded"
    assert set(ready.json()["degraded"]) == {"broker", "cache", "rate_limits"}

    started = time.monotonic()
    assert api.get(base + "/api/v1/me/", timeout=30).status_code == 200
    events = [
        {
            "id": f"evt-{i}",
            "type": "member.joined",
            "occurred_at": "2026-11-21T20:00:00+08:00",
            "platform": "wechat",
            "community": "wx-group-redis-down",
            "user": f"wxid_{i}",
            "display_name": f"成员{i}",
        }
        for i in range(3)
    ]
    posted = api.post(base + "/api/v1/events/", json={"events": events}, timeout=30)
    assert posted.status_code == 200, posted.text
    assert posted.json()["accepted"] == 3
    assert Member.objects.for_org(org).count() == 3  # nothing lost
    for _ in range(5):
        response = api.get(base + "/api/v1/me/", timeout=30)
        assert response.status_code == 200 and "RateLimit-Remaining" in response.headers
    assert time.monotonic() - started < 20  # no connection timeout paid per request

    web = requests.Session()
    login_page = web.get(base + "/accounts/login/", timeout=30)
    assert login_page.status_code == 200
    logged_in = web.post(
        base + "/accounts/login/",
        data={
            "username": "owner@example.com",
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        headers={"Referer": base + "/accounts/login/"},
        timeout=30,
    )
    assert logged_in.status_code == 200 and logged_in.url.endswith(f"/o/{org.slug}/"), logged_in.url
    for page in ["", "members/", "communities/", "metrics/", "webhooks/"]:
        assert web.get(f"{base}/o/{org.slug}/{page}", timeout=30).status_code == 200, page

    # work queued after a commit (here a password-reset mail) does not fail the request
    reset_page = requests.Session()
    reset_page.get(base + "/accounts/password/reset/", timeout=30)
    reset = reset_page.post(
        base + "/accounts/password/reset/",
        data={"email": "owner@example.com", "csrfmiddlewaretoken": reset_page.cookies["csrftoken"]},
        headers={"Referer": base + "/accounts/password/reset/"},
        timeout=30,
    )
    assert reset.status_code == 200 and reset.url.endswith("/accounts/password/reset/sent/")


def test_the_cache_answers_like_a_miss_and_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="core.cache")
    cache = ResilientRedisCache(UNREACHABLE_REDIS, {})
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is False
    assert cache.set("k", 1) is None
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False
    assert cache.available() is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


def test_queueing_with_the_broker_unreachable_returns_instead_of_raising(caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="core.tasks")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # it would win over broker=
    app = Celery("redis-down-test", broker=UNREACHABLE_REDIS, task_cls="core.tasks:ResilientTask")
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}

    @app.task(name="redis_down_test.noop")
    def noop():
        return None

    started = time.monotonic()
    assert noop.delay() is None
    assert time.monotonic() - started < 10
    assert any("Could not queue redis_down_test.noop" in r.getMessage() for r in caplog.records)


def test_the_projects_tasks_use_the_resilient_class():
    from config.celery import app
    from core.tasks import ResilientTask
    from integrations.tasks import deliver_webhooks
    from tenancy.tasks import send_password_reset

    app.loader.import_default_modules()
    assert isinstance(deliver_webhooks, ResilientTask)
    assert isinstance(send_password_reset, ResilientTask)
