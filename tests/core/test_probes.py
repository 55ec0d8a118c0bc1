"""`/livez` and `/readyz` (issue 21, item 12): liveness asks nothing of the services underneath,
readiness needs the database and reports Redis-backed parts as degraded. The gunicorn test in
test_redis_down.py drives both with Redis really unreachable; test_db_restart.py with the
database really stopped."""

import pytest
from django.test import Client

UNREACHABLE_REDIS = "redis://127.0.0.1:6390/15"  # nothing listens there


def test_livez_touches_no_database_and_no_broker(db, settings, django_assert_num_queries):
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    with django_assert_num_queries(0):
        response = Client().get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_with_an_unreachable_broker_is_ready_but_degraded(db, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    settings.RATELIMIT_REDIS_URL = UNREACHABLE_REDIS
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert {"broker", "rate_limits"} <= set(body["degraded"])
    assert Client().get("/readyz?strict=1").status_code == 503


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_readyz_and_its_old_name_answer_alike(db, path):
    body = Client().get(path).json()
    assert body["database"]["ok"] is True
    assert set(body) >= {"status", "database", "broker"}


def test_probes_are_exempt_from_the_https_redirect(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/livez", "/readyz", "/healthz"):
        assert Client().get(path).status_code == 200, path
