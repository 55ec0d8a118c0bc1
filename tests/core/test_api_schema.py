"""The OpenAPI document as integrators meet it: English, valid, every operation summarised,
tagged, with typed answers and the shared error body; events and actions typed from the
structs the server validates with."""

import json
import re

import msgspec
import pytest
from django.test import Client
from openapi_spec_validator import validate

from integrations import outbox
from integrations.action_payloads import PAYLOADS, PayloadError
from integrations.event_schema import EVENT_TYPES, Event
from integrations.models import ActionKind
from integrations.openapi import action_component

from ..factories import CommunityFactory, MembershipFactory, member_payload

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
ERROR_STATUSES = {"400", "401", "403", "404", "409", "415", "422", "429"}
# What a chat bot calls: each has an example of its request (when it has a body) and answer.
BOT_FACING = [
    ("get", "/api/v1/me/"),
    ("post", "/api/v1/communities/"),
    ("post", "/api/v1/events/"),
    ("get", "/api/v1/actions/"),
    ("post", "/api/v1/actions/{id}/ack/"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def _without_examples(node):
    if isinstance(node, dict):
        return {
            k: _without_examples(v) for k, v in node.items() if k not in ("example", "examples")
        }
    if isinstance(node, list):
        return [_without_examples(v) for v in node]
    return node


def test_the_schema_is_english_whatever_language_the_client_asks(schema, db):
    text = json.dumps(_without_examples(schema), ensure_ascii=False)
    text = text.replace("Qunyun (群运)", "Qunyun")  # the product's name
    assert not CJK.findall(text), CJK.findall(text)[:20]
    again = Client().get("/api/schema/?format=json&lang=zh-hans", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert json.loads(again.content) == schema  # the same, also when made a second time
    assert all(name.isascii() for name in schema["components"]["schemas"])


def test_the_document_is_valid_openapi(schema):
    validate(schema)


def test_every_operation_has_a_summary_tags_and_typed_answers(schema):
    tags = {t["name"] for t in schema["tags"]}
    seen = 0
    for method, path, operation in _operations(schema):
        seen += 1
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert len(operation["summary"]) <= 80 and not operation["summary"].endswith("."), where
        assert operation.get("tags") and set(operation["tags"]) <= tags, where
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, where
        for code in success:
            content = responses[code].get("content", {})
            assert content, f"{where} {code} has no typed body"
            for media in content.values():
                assert media.get("schema"), f"{where} {code}"
        for code in ERROR_STATUSES & set(responses):
            body = responses[code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, f"{where} {code}"
            assert responses[code]["content"]["application/json"].get("examples"), where
        assert {"401", "403", "429"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if method in ("post", "put", "patch"):
            assert {"400", "415"} <= set(responses), where
    assert seen >= 100


def test_conflicts_are_documented_where_they_happen(schema):
    for method, path in [
        ("post", "/api/v1/actions/{id}/ack/"),
        ("post", "/api/v1/communities/"),
        ("post", "/api/v1/warnings/{id}/revoke/"),
        ("post", "/api/v1/orders/{id}/refund/"),
        ("post", "/api/v1/care/cases/{id}/step/"),
    ]:
        assert "409" in schema["paths"][path][method]["responses"], (method, path)
    order = schema["paths"]["/api/v1/campaigns/{id}/orders/"]["post"]["responses"]
    assert {"409", "422"} <= set(order)


def test_request_bodies_are_json_except_the_file_upload(schema):
    for method, path, operation in _operations(schema):
        body = operation.get("requestBody")
        if body is None:
            continue
        expected = ["multipart/form-data"] if path == "/api/v1/members/import/" else None
        assert list(body["content"]) == (expected or ["application/json"]), (method, path)


def test_bot_facing_operations_have_examples(schema):
    for method, path in BOT_FACING:
        operation = schema["paths"][path][method]
        if "requestBody" in operation:
            assert operation["requestBody"]["content"]["application/json"]["examples"], path
        success = "201" if "201" in operation["responses"] else "200"
        answer = operation["responses"][success]["content"]["application/json"]
        assert answer.get("examples"), path


def test_events_are_one_schema_per_type_from_the_validators_structs(schema):
    components = schema["components"]["schemas"]
    union = components["Event"]
    assert union["discriminator"]["propertyName"] == "type"
    assert sorted(union["discriminator"]["mapping"]) == sorted(EVENT_TYPES)
    for struct in Event.__args__:
        tag = struct.__struct_config__.tag
        component = components[union["discriminator"]["mapping"][tag].rsplit("/", 1)[-1]]
        assert set(component["properties"]) == {"type", *struct.__struct_fields__}, tag
        assert component["properties"]["type"]["enum"] == [tag]
        required = {f.name for f in msgspec.inspect.type_info(struct).fields if f.required}
        assert set(component["required"]) == required | {"type"}, tag
    batch = components["EventBatchRequest"]["properties"]["events"]
    assert batch["items"] == {"$ref": "#/components/schemas/Event"}
    result = components["EventBatchResult"]["properties"]["rejected"]
    assert result["items"] == {"$ref": "#/components/schemas/RejectedEvent"}


def test_actions_are_one_schema_per_kind_with_a_typed_payload(schema):
    components = schema["components"]["schemas"]
    for union_name, prefix in (("Action", ""), ("WebhookAction", "Webhook")):
        union = components[union_name]
        assert union["discriminator"]["propertyName"] == "kind"
        assert sorted(union["discriminator"]["mapping"]) == sorted(ActionKind.values)
        for kind, struct in PAYLOADS.items():
            variant = components[prefix + action_component(kind)]
            assert variant["properties"]["kind"]["enum"] == [kind]
            assert variant["properties"]["payload"] == {
                "$ref": f"#/components/schemas/{struct.__name__}"
            }
            payload = components[struct.__name__]
            assert set(payload["properties"]) == set(struct.__struct_fields__)
            assert payload["additionalProperties"] is False
    page = components["ActionPage"]["properties"]
    assert page["results"]["items"] == {"$ref": "#/components/schemas/Action"}


def test_the_member_export_is_typed(schema):
    export = schema["paths"]["/api/v1/members/{id}/export/"]["get"]["responses"]["200"]
    ref = export["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"member", "memberships", "identities", "points_ledger", "orders", "care_cases"} <= set(
        component["properties"]
    )
    orders = component["properties"]["orders"]["items"]["properties"]
    assert orders["amount"] == {"type": "string", "format": "decimal"}


# --- the outbox keeps to the documented payloads ------------------------------------------------


def test_the_outbox_refuses_a_payload_its_kind_does_not_document(org_a):
    community = CommunityFactory(organization=org_a.org)
    good = {k: v for k, v in member_payload().items() if k not in ("community_external_id",)}
    action = outbox.build(
        organization=org_a.org, kind=ActionKind.WELCOME, community=community, **good
    )
    assert action.payload["community_external_id"] == community.external_id
    with pytest.raises(PayloadError, match="unknown field"):
        outbox.build(organization=org_a.org, kind=ActionKind.WELCOME, **member_payload(), mood=1)
    with pytest.raises(PayloadError, match="user_external_id"):
        outbox.build(organization=org_a.org, kind=ActionKind.WARN, text="x", community=community)


# --- the API's behaviour that the document promises -------------------------------------------


def test_a_list_refuses_an_unknown_query_parameter(org_a):
    client = org_a.api_client()
    response = client.get("/api/v1/communities/?externalid=wx-1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"externalid": ["Unknown query parameter."]}
    assert client.get("/api/v1/communities/?page_size=5&format=json").status_code == 200
    assert client.get("/api/v1/actions/?status=pending&limit=2&nope=1").status_code == 400
    assert client.get("/api/v1/care/cases/?queue=open").status_code == 200


def test_groups_and_members_are_found_by_their_platform_ids(org_a):
    wanted = CommunityFactory(organization=org_a.org, platform="telegram", external_id="g-1")
    CommunityFactory(organization=org_a.org, platform="wechat", external_id="g-1")
    CommunityFactory(organization=org_a.org, platform="telegram", external_id="g-2")
    client = org_a.api_client()
    found = client.get("/api/v1/communities/?platform=telegram&external_id=g-1").json()
    assert [c["id"] for c in found["results"]] == [wanted.pk]
    membership = MembershipFactory(organization=org_a.org, community=wanted)
    MembershipFactory(organization=org_a.org, community=wanted)
    identity = membership.identity
    members = client.get(
        f"/api/v1/members/?platform={identity.platform}&external_user_id={identity.external_user_id}"
    ).json()
    assert [m["id"] for m in members["results"]] == [membership.member_id]
    assert client.get("/api/v1/members/?external_user_id=nobody").json()["results"] == []


def test_a_form_encoded_body_is_refused_with_the_error_body(org_a):
    response = org_a.api_client().post(
        "/api/v1/communities/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
