"""How the API describes itself (drf-spectacular), the same way for every app:

- the schema is served in English whatever the request's language (core.schema_view: generated
  clients get English class and enum names; the Swagger page around it stays translatable);
- every operation has a summary, tags for its area (settings.API_TAGS, by the first path
  segment after the API's prefix) and the shared error body for the 4xx answers it can give:
  400, 401, 403, 404, 415 and 429 where they apply, 409 for the actions a view lists in
  `conflicts`, 422 where an operation names `UNPROCESSABLE` in its responses;
- `json_schema_to_openapi` turns JSON Schema made from msgspec structs (the events and action
  payloads the server validates with) into OpenAPI 3.0 components, so they are not written
  twice.
"""

from __future__ import annotations

import copy

from django.conf import settings
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

# --- the error body ---------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable machine-readable code: invalid, parse_error, not_authenticated, "
        "authentication_failed, permission_denied, not_found, conflict, throttled, or a "
        "refusal's own code (sold_out, cap_exceeded, not_live, already_in_team, team_closed, "
        "not_eligible, idempotency_conflict)."
    )
    message = serializers.CharField(help_text="Human-readable, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Errors per input field (400, and a 409 about one field).",
    )
    request_id = serializers.CharField(
        required=False, help_text="The request's id, as in the X-Request-ID header and the logs."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


def _example(name, status, code, message, fields=None) -> OpenApiExample:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error["request_id"] = "3f2c1e9a8b7d4c60a1b2c3d4e5f60718"
    return OpenApiExample(name, value={"error": error}, status_codes=[str(status)])


ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="Invalid input: a body or query parameter is wrong, missing or unknown; "
        "`fields` holds the errors per field.",
        examples=[
            _example(
                "Invalid field",
                400,
                "invalid",
                "The request has invalid fields.",
                {"external_id": ["This field is required."]},
            )
        ],
    ),
    401: OpenApiResponse(
        ErrorSerializer,
        description="No API key, a malformed Authorization header, or an unknown or revoked key.",
        examples=[
            _example(
                "No key",
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
            )
        ],
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="The key's role lacks the capability this operation needs.",
        examples=[
            _example(
                "Role too low",
                403,
                "permission_denied",
                "You do not have permission to perform this action.",
            )
        ],
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such object in the key's organization (another organization's objects "
        "read as missing too).",
        examples=[_example("Missing", 404, "not_found", "Not found.")],
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        description="The request is valid but conflicts with the current state: a duplicate, an "
        "object already in another state, a step out of order, nothing left. Read the object "
        "again before deciding what to do; sending the same request again gives the same answer.",
        examples=[
            _example(
                "Already finished",
                409,
                "conflict",
                "This action is already finished as “done”.",
            )
        ],
    ),
    422: OpenApiResponse(
        ErrorSerializer,
        description="The Idempotency-Key was used before with other parameters.",
        examples=[
            _example(
                "Key reused",
                422,
                "idempotency_conflict",
                "This Idempotency-Key was used for another order.",
            )
        ],
    ),
    415: OpenApiResponse(
        ErrorSerializer,
        description="The body is not JSON: send `Content-Type: application/json`.",
        examples=[
            _example(
                "Not JSON",
                415,
                "unsupported_media_type",
                'Unsupported media type "application/x-www-form-urlencoded" in request.',
            )
        ],
    ),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Over the key's rate limit; the Retry-After header says when to come back.",
        examples=[
            _example(
                "Too fast",
                429,
                "throttled",
                "Request was throttled. Expected available in 3 seconds.",
            )
        ],
    ),
}
UNPROCESSABLE = ERRORS[422]


# --- the operation --------------------------------------------------------------------------

_CRUD_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Get a {singular}",
    "create": "Create a {singular}",
    "update": "Replace a {singular}",
    "partial_update": "Update a {singular}",
    "destroy": "Delete a {singular}",
}


class AutoSchema(SpectacularAutoSchema):
    """Views say what the document cannot guess in two class attributes, by action (viewsets)
    or method (other views), `"<action>:<method>"` where one action takes two methods:

        summaries = {"ack": "Acknowledge an action"}   # list/retrieve/create… are generated
        conflicts = ("ack",)                            # these may answer 409
    """

    def _keys(self) -> list[str]:
        method = self.method.lower()
        action = getattr(self.view, "action", None)
        return [f"{action}:{method}", action] if action else [method]

    def get_tags(self) -> list[str]:
        tokens = self._tokenize_path()
        first = tokens[0] if tokens else ""
        return [getattr(settings, "API_TAGS", {}).get(first, first.replace("-", " ").title())]

    def get_summary(self) -> str | None:
        summaries = getattr(self.view, "summaries", {})
        for key in self._keys():
            if key in summaries:
                return summaries[key]
        action = getattr(self.view, "action", None)
        model = getattr(self.view, "model", None)
        if action in _CRUD_SUMMARIES and model is not None:
            meta = model._meta
            singular = str(meta.verbose_name)
            summary = _CRUD_SUMMARIES[action].format(
                singular=singular, plural=str(meta.verbose_name_plural)
            )
            return summary.replace(" a ", " an ") if singular[:1] in "aeiou" else summary
        return None

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            responses.setdefault(  # an operation's own description of a status wins
                str(status), self._get_response_for_code(ERRORS[status], str(status))
            )
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> list[int]:
        statuses = []
        takes_input = self.method in ("POST", "PUT", "PATCH") or bool(
            [p for p in self._get_parameters() if p.get("in") == "query"]
        )
        if takes_input:
            statuses.append(400)
        if self.view.get_authenticators():
            statuses += [401, 403]
        if "{" in self.path:
            statuses.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append(415)
        if any(key in getattr(self.view, "conflicts", ()) for key in self._keys()):
            statuses.append(409)
        if self.view.get_throttles():
            statuses.append(429)
        return statuses


# --- JSON Schema (msgspec) into OpenAPI 3.0 ---------------------------------------------------


def json_schema_to_openapi(schema, rename=None):
    """msgspec's JSON Schema (2020-12) as OpenAPI 3.0: `null` in a union becomes `nullable`,
    enums get their type, a decimal accepts a JSON number or a string, `$ref`s are renamed by
    `rename` ({msgspec name: component name})."""
    rename = rename or {}
    schema = copy.deepcopy(schema)

    def convert(node):
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            node["$ref"] = f"#/components/schemas/{rename.get(name, name)}"
        for union in ("anyOf", "oneOf"):
            options = node.get(union)
            if options is None:
                continue
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) < len(options):
                node["nullable"] = True
                if len(rest) == 1:
                    del node[union]
                    only = rest[0]
                    if "$ref" in only:  # a $ref takes no siblings in OpenAPI 3.0
                        node["allOf"] = [only]
                    else:
                        node.update(only)
                        node["nullable"] = True
                else:
                    node[union] = rest
            if "discriminator" in node and union == "anyOf":
                node["oneOf"] = node.pop("anyOf")
            mapping = node.get("discriminator", {}).get("mapping")
            if mapping:
                for key, target in mapping.items():
                    name = target.rsplit("/", 1)[-1]
                    mapping[key] = f"#/components/schemas/{rename.get(name, name)}"
        if "const" in node:
            node["enum"] = [node.pop("const")]
        if "enum" in node and "type" not in node:
            values = node["enum"]
            if all(isinstance(v, str) for v in values):
                node["type"] = "string"
            elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                node["type"] = "integer"
        if node.get("type") == "string" and node.get("format") == "decimal":
            extra = {k: v for k, v in node.items() if k not in ("type", "format")}
            node = {
                "oneOf": [{"type": "number"}, {"type": "string", "format": "decimal"}],
                **extra,
            }
        node.pop("$defs", None)
        if node.get("required") == []:  # OpenAPI 3.0 wants at least one name, or none at all
            del node["required"]
        return node

    return convert(schema)
