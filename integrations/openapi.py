"""The events and actions in the OpenAPI document, made from the structs the server validates
with (`integrations.event_schema`, `integrations.action_payloads`), not written twice.

- `Event`: one schema per event type, a union discriminated by `type`;
- `<Kind>Payload`: one schema per action kind;
- `Action`: one schema per kind (`MemberWelcomeAction` …) with its typed `payload`, a union
  discriminated by `kind`; `WebhookAction` likewise for the body of a webhook delivery.

`add_components` is a drf-spectacular postprocessing hook (settings.SPECTACULAR_SETTINGS); the
views point at the components with `EVENT_REF` and `ACTION_PAGE` fields below.
"""

from __future__ import annotations

import msgspec
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api_schema import json_schema_to_openapi

from .action_payloads import PAYLOADS
from .event_schema import MAX_BATCH, Event

REF = "#/components/schemas/{name}"
EVENT_REF = {"$ref": REF.format(name="Event")}


def _event_name(name: str) -> str:
    return f"{name}Event" if name != "OrderItem" else "EventOrderItem"


def action_component(kind: str) -> str:
    """`member.welcome` → `MemberWelcomeAction`."""
    return PAYLOADS[kind].__name__.removesuffix("Payload") + "Action"


def _event_components() -> dict:
    (union,), components = msgspec.json.schema_components([Event], ref_template=REF)
    rename = {name: _event_name(name) for name in components}
    schemas = {
        rename[name]: json_schema_to_openapi(schema, rename) for name, schema in components.items()
    }
    for name in schemas:
        schemas[name].pop("title", None)
    union = json_schema_to_openapi(union, rename)
    union["description"] = (
        "An event seen in a group; `type` says which. Every event has `id` (yours, unique: "
        "resending it changes nothing), `occurred_at` (ISO 8601 with a time zone), `platform`, "
        "`community` (the group's id on the platform) and `user` (the member's id on the "
        "platform). Fields not listed are ignored."
    )
    schemas["Event"] = union
    for name, schema in schemas.items():
        if name.endswith("Event") and "properties" in schema:
            props = schema["properties"]
            props["occurred_at"].update(
                {"format": "date-time", "description": "When it happened, with a time zone."}
            )
            props["id"]["description"] = "Your unique id for this event (idempotency)."
    return schemas


def _payload_components() -> dict:
    structs = list(PAYLOADS.values())
    _refs, components = msgspec.json.schema_components(structs, ref_template=REF)
    schemas = {}
    for name, schema in components.items():
        schema = json_schema_to_openapi(schema)
        schema.pop("title", None)
        schemas[name] = schema
    return schemas


def _kind_union(base: dict, name: str, description: str) -> dict:
    """`base` (an object schema with `kind` and `payload`) once per kind, and their union."""
    variants, mapping = {}, {}
    for kind, struct in PAYLOADS.items():
        variant_name = (
            action_component(kind) if name == "Action" else "Webhook" + action_component(kind)
        )
        variant = {**base, "properties": dict(base["properties"])}
        variant["properties"]["kind"] = {"type": "string", "enum": [str(kind)]}
        variant["properties"]["payload"] = {"$ref": REF.format(name=struct.__name__)}
        variant["required"] = sorted(set(base.get("required", [])) | {"kind", "payload"})
        variant.pop("description", None)
        variants[variant_name] = variant
        mapping[str(kind)] = REF.format(name=variant_name)
    variants[name] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "kind", "mapping": mapping},
        "description": description,
    }
    return variants


WEBHOOK_BASE = {
    "type": "object",
    "properties": {
        "id": {
            "type": "integer",
            "description": "The action's id (`webhook-id` is `action-<id>`).",
        },
        "kind": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "payload": {"type": "object"},
    },
    "required": ["id", "kind", "created_at", "payload"],
}


def add_components(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    ours = {**_event_components(), **_payload_components()}
    action = schemas.get("Action")
    if action is not None:  # the outbox's serializer (integrations.api.ActionSerializer)
        ours.update(
            _kind_union(
                action,
                "Action",
                "An action for a bot to carry out; `kind` says which, `payload` what it needs.",
            )
        )
    ours.update(
        _kind_union(
            WEBHOOK_BASE,
            "WebhookAction",
            "The JSON body of a webhook delivery: one action.",
        )
    )
    clashes = set(ours) & (set(schemas) - {"Action"})
    if clashes:
        raise RuntimeError(f"OpenAPI components defined twice: {sorted(clashes)}")
    schemas.update(ours)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


@extend_schema_field({"type": "array", "items": EVENT_REF, "maxItems": MAX_BATCH, "minItems": 0})
class EventListField(serializers.ListField):
    """Events, as the OpenAPI document shows them (the view validates them with msgspec)."""
