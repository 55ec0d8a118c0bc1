"""Secrets never reach the logs: an API key, a webhook signing secret and a password are
created and used through real requests with every logger at DEBUG (SQL included), and none of
them appears in the log output or in the audit log."""

import logging
import re

import pytest
from django.db import connection
from django.urls import reverse

from tenancy.models import AuditLogEntry
from tests.factories import TEST_PASSWORD

LOGGERS = [None, "django", "django.request", "django.db.backends", "axes", "celery"]


@pytest.fixture
def all_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True  # SQL with parameters is logged at DEBUG too
    yield caplog
    connection.force_debug_cursor = forced


def _log_text(caplog) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(getattr(record, "params", "")))
        parts.append(repr(record.args))
    return "\n".join(parts)


def _audit_text(org) -> str:
    rows = AuditLogEntry.objects.for_org(org).values_list("summary", "object_repr", "changes")
    return "\n".join(repr(row) for row in rows)


def test_api_key_and_webhook_secret_are_not_logged(org_a, all_logs):
    client = org_a.client_for(org_a.owner)
    page = client.post(
        reverse("api-keys", kwargs={"org_slug": org_a.org.slug}),
        {"name": "logging bot", "role": "manager"},
    )
    raw_key = re.search(r'class="secret-once[^"]*">([^<]+)<', page.content.decode()).group(1)
    assert len(raw_key) > 20

    api = org_a.api_client(raw_key)
    assert api.get("/api/v1/me/").status_code == 200
    assert api.get("/api/v1/members/999999999/").status_code == 404  # logged as a 4xx
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "https://bot.example.com/hook", "kinds": []},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert len(secret) > 20

    logs = _log_text(all_logs)
    assert "/api/v1/members/999999999/" in logs  # the capture works
    assert "SELECT" in logs
    for value in (raw_key, secret):
        assert value not in logs
        assert value not in _audit_text(org_a.org)


def test_passwords_are_not_logged(org_a, all_logs, client):
    new_password = "Correct-Horse-Battery-Staple-42"
    login = reverse("login")
    assert client.post(login, {"username": org_a.owner.email, "password": "Wrong-Guess-9931"})
    response = client.post(login, {"username": org_a.owner.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert changed.status_code == 302
    logs = _log_text(all_logs)
    assert "UPDATE" in logs
    for value in (TEST_PASSWORD, new_password, "Wrong-Guess-9931"):
        assert value not in logs
