"""API rate limits that hold under concurrency (issue 19, item 3): one atomic Redis counter per
key shared by every process, `RateLimit-*` and `Retry-After` headers, and failed
authentications limited per client address."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from core import ratelimit
from tenancy.actors import Actor
from tenancy.api_auth import ApiKeyRateThrottle
from tenancy.services import api_key_create, organization_create

from ..concurrency import run_concurrently

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:6390/15"  # nothing listens there


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_limit_holds_with_32_threads_racing(monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "40/min"})
    org = organization_create(name="限流", slug="rate-race", owner_email="rate@example.com")
    _key, raw = api_key_create(actor=Actor.system(org, "tests"), name="racing bot")

    def burst():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return [client.get("/api/v1/me/").status_code for _ in range(6)]

    codes = [code for codes in run_concurrently(burst, times=32) for code in codes]
    assert len(codes) == 32 * 6
    assert codes.count(200) == 40
    assert codes.count(429) == 32 * 6 - 40


def test_every_response_says_where_the_caller_stands(org_a, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    client = org_a.api_client()
    first = client.get("/api/v1/me/")
    assert first.status_code == 200
    assert first["RateLimit-Limit"] == "2" and first["RateLimit-Remaining"] == "1"
    assert 0 < int(first["RateLimit-Reset"]) <= 60
    assert first["RateLimit-Policy"] == "2;w=60"
    assert client.get("/api/v1/me/")["RateLimit-Remaining"] == "0"
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"


@pytest.mark.redis
def test_the_counters_are_shared_with_other_processes():
    window = 60
    code = (
        "import django\n"
        "django.setup()\n"
        "from core import ratelimit\n"
        "for _ in range(3):\n"
        "    ratelimit.hit('shared', 'who', limit=5, window=60)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["RATELIMIT_REDIS_URL"] = django_settings.RATELIMIT_REDIS_URL
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    decision = ratelimit.hit("shared", "who", limit=5, window=window)
    assert decision.allowed and decision.remaining == 1  # 3 there + 1 here of 5


def test_failed_authentications_are_limited_per_address(org_a, settings):
    settings.API_AUTH_FAILURE_RATE = "3/min"
    guesser = Client(HTTP_AUTHORIZATION="Bearer qy_guess_0000", REMOTE_ADDR="203.0.113.7")
    assert [guesser.get("/api/v1/me/").status_code for _ in range(3)] == [401, 401, 401]
    refused = guesser.get("/api/v1/me/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"
    # past the limit even the right key is refused from that address: guessing earns nothing
    right_key = Client(HTTP_AUTHORIZATION=f"Bearer {org_a.raw_key}", REMOTE_ADDR="203.0.113.7")
    assert right_key.get("/api/v1/me/").status_code == 429
    # a forged X-Forwarded-For does not make a new address when no proxy is configured
    forged = Client(
        HTTP_AUTHORIZATION="Bearer qy_guess_0001",
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert forged.get("/api/v1/me/").status_code == 429
    other = Client(HTTP_AUTHORIZATION=f"Bearer {org_a.raw_key}", REMOTE_ADDR="198.51.100.1")
    assert other.get("/api/v1/me/").status_code == 200


def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_saw(org_a, settings):
    settings.API_AUTH_FAILURE_RATE = "1/min"
    settings.PROXY_COUNT = 1

    def guess(client_ip):
        return Client(
            HTTP_AUTHORIZATION="Bearer qy_guess_0000",
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_ip}",  # first entry forged by the client
        ).get("/api/v1/me/")

    assert guess("203.0.113.7").status_code == 401
    assert guess("203.0.113.7").status_code == 429
    assert guess("203.0.113.8").status_code == 401  # another client behind the same proxy


def test_with_redis_down_the_api_answers_and_limits_per_process(
    org_a, settings, caplog, monkeypatch
):
    settings.RATELIMIT_REDIS_URL = UNREACHABLE_REDIS
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    caplog.set_level(logging.WARNING, logger="core.ratelimit")
    client = org_a.api_client()
    codes = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1
