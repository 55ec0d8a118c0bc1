import time

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tenancy import services, tokens
from tenancy.models import ApiKey

from ..factories import AuditLogEntryFactory


def test_me_says_which_org_and_role(org_a):
    response = org_a.api_client().get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["organization"]["slug"] == org_a.org.slug
    assert body["role"] == "manager"
    assert body["api_key"]["prefix"] == org_a.api_key.prefix
    assert "member.warn" in body["capabilities"]
    assert "apikey.manage" not in body["capabilities"]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer qy_nothing", "Bearer qy_12345678_wrongsecret", "Basic abc"],
)
def test_bad_keys_get_401_in_the_error_format(org_a, client, header):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] in ("authentication_failed", "not_authenticated")
    assert error["message"]


def test_right_prefix_wrong_secret_is_refused(org_a, client):
    forged = f"{org_a.api_key.prefix}_{'x' * 43}"
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_key_is_stored_hashed_and_checks_fast(org_a):
    key = ApiKey.objects.for_org(org_a.org).get(pk=org_a.api_key.pk)
    assert org_a.raw_key.startswith(key.prefix + "_")
    assert org_a.raw_key not in key.key_hash
    assert key.key_hash == tokens.keyed_hash(org_a.raw_key)
    started = time.perf_counter()
    for _ in range(1000):
        tokens.matches(org_a.raw_key, key.key_hash)
    assert (time.perf_counter() - started) / 1000 < 0.001  # far below a millisecond each


def test_last_used_is_recorded_without_a_write_per_request(org_a, django_assert_max_num_queries):
    client = org_a.api_client()
    client.get("/api/v1/me/")
    key = ApiKey.objects.for_org(org_a.org).get(pk=org_a.api_key.pk)
    assert key.last_used_at is not None
    with django_assert_max_num_queries(1):  # the key lookup only; no UPDATE within the minute
        client.get("/api/v1/me/")


def test_revoked_key_stops_working(org_a):
    services.api_key_revoke(actor=org_a.actor(), api_key=org_a.api_key)
    assert org_a.api_client().get("/api/v1/me/").status_code == 401


def test_throttling_is_per_key(org_a, org_b, monkeypatch):
    from tenancy.api_auth import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    client = org_a.api_client()
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response.headers
    assert org_b.api_client().get("/api/v1/me/").status_code == 200  # per key


def test_audit_log_cursor_pagination_and_filters(org_a, django_assert_max_num_queries):
    for i in range(7):
        AuditLogEntryFactory(organization=org_a.org, action=f"demo.step{i % 2}")
    client = org_a.api_client()
    seen = []
    url = "/api/v1/audit-log/?page_size=3"
    while url:
        with django_assert_max_num_queries(3):
            page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) >= 7
    assert seen == sorted(seen, reverse=True)
    filtered = client.get("/api/v1/audit-log/?action=demo.step1").json()["results"]
    assert filtered and {row["action"] for row in filtered} == {"demo.step1"}


def test_audit_log_bad_filter_is_a_400_with_field_errors(org_a):
    response = org_a.api_client().get(
        "/api/v1/audit-log/?since=not-a-date", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "since" in error["fields"]


def test_errors_follow_the_orgs_language_when_the_bot_says_none(org_a):
    with translation.override("zh-hans"):
        expected = gettext("The request has invalid fields.")
    assert expected != "The request has invalid fields."
    response = org_a.api_client().get("/api/v1/audit-log/?since=x")
    assert response.json()["error"]["message"] == expected


def test_unknown_api_url_is_json_404(org_a):
    response = org_a.api_client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_missing_object_is_404(org_a):
    response = org_a.api_client().get(reverse("api:audit-log-detail", kwargs={"pk": 999999}))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_analyst_key_cannot_read_audit_log(org_a):
    _key, raw = services.api_key_create(actor=org_a.actor(), name="ro", role="analyst")
    response = org_a.api_client(raw).get("/api/v1/audit-log/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    assert b"ApiKey" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_openapi_schema_validates_without_warnings():
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
