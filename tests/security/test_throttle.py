"""Per-key API throttling: one key's burst does not throttle another key, even of the same
organization."""

from tenancy.actors import Actor
from tenancy.api_auth import ApiKeyRateThrottle
from tenancy.services import api_key_create


def test_two_keys_of_one_organization_have_their_own_budgets(org_a, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _, second_raw = api_key_create(actor=Actor.system(org_a.org, "tests"), name="second bot")
    first = org_a.api_client()
    assert [first.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    second = org_a.api_client(second_raw)
    assert [second.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]


def test_throttled_response_is_in_the_api_error_format(org_a, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    client = org_a.api_client()
    client.get("/api/v1/me/")
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
