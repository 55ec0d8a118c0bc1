"""Hostile values on every API operation and every dashboard GET: no 500 (issue 19).

NUL characters, lone surrogates, 10,000-character strings, huge and negative numbers,
out-of-range dates and deep JSON, as query parameters (every parameter the OpenAPI schema
declares, plus the names the dashboard reads), as path ids and as JSON bodies (every property
of the operation's request schema, a batch of events with hostile fields, raw deep nesting).
Hypothesis draws the combinations, derandomized so CI sees the same cases every run; a few
examples per route keep the run short. The schemathesis test beside this one walks the same
operations with schema-shaped values; this one aims at the values that used to be 500s.
"""

import json
from urllib.parse import quote

from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.event_schema import EVENT_TYPES
from tests.fuzz.test_api_schema import _seed
from tests.tenant_routes import ROUTE_KWARGS
from tests.test_cross_tenant import ORG_ROUTES

EXAMPLES = 4  # per route and test, on top of the fixed sweep below

TEXT = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "x" * 10_000,
    "💥" * 2_000,
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\u200b",
    " ",
    "",
]
NUMBERS = [
    "-1",
    "0",
    "99999999999999999999999999",
    "-9223372036854775809",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-Infinity",
    "1.5",
    "0x10",
]
DATES = [
    "0000-00-00",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31",
    "9999-12-31T23:59:59-12:00",
    "10000-01-01",
    "2026-13-45",
    "-0001-01-01T00:00:00Z",
    "2026-02-30",
    "1970-01-01T00:00:00-25:00",
    "9999-12",
    "0001-01",
    "2026-00",
]
HOSTILE_STRINGS = TEXT + NUMBERS + DATES
# Every route gets each of these in every parameter it may read (one request per value);
# hypothesis adds random combinations of all the values above.
SWEEP = [
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-13-45",
    "9999-12",
    "0001-01",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "\ud800",
    "x" * 10_000,
]

query_values = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Lo", "Nd"]), max_size=20),
)


def _nested(depth):
    value = "deep"
    for _ in range(depth):
        value = [value]
    return value


json_values = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(
        [10**30, -(10**30), -1, 0, 2**63, -(2**63) - 1, 1e308, -1e308, 0.5, True, None]
    ),
    st.sampled_from([[], {}, _nested(50), {"a": _nested(50)}, ["\x00"] * 3, {"\x00": "\ud800"}]),
)

DASHBOARD_PARAMS = [
    "q",
    "tag",
    "status",
    "community",
    "page",
    "kind",
    "queue",
    "mine",
    "date",
    "view",
    "start",
    "end",
    "sort",
    "month",
    "window",
    "member",
    "order",
    "campaign",
    "blocked",
    "platform",
    "since",
    "until",
    "action",
    "active",
    "user",
]
HOSTILE_IDS = ["99999999999999999999999", "-1", "0", "1e5", "%F0%9F%92%A5", "%ED%A0%80"]
DEEP_RAW = "[" * 3_000 + "]" * 3_000

hypothesis_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _query(params: dict) -> str:
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}"
        for k, v in params.items()
    )


def _openapi() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def _properties(schema: dict, spec: dict) -> list[str]:
    seen = set()
    while "$ref" in schema and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"].get(name, {})
    return list(schema.get("properties", {}))


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            fields = _properties(body["schema"], spec) if body else []
            yield method, path, params, fields


def _failures(responses) -> list[str]:
    return [f"{label}: {code}" for label, code in responses if code >= 500]


def _id_for(path: str, ids: dict) -> str:
    collection = path.split("{", 1)[0]
    return str(ids.get(collection, 1))


def _real_ids(client, spec) -> dict:
    ids = {}
    for method, path, _params, _fields in _operations(spec):
        if method != "get" or "{" in path:
            continue
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"] == "application/json":
            body = response.json()
            rows = body.get("results", body) if isinstance(body, dict) else body
            if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "id" in rows[0]:
                ids[path] = rows[0]["id"]
    return ids


def _api_runner(client, method, path, params, fields, ids, seen):
    call = getattr(client, method)

    @hypothesis_settings
    @given(
        query=st.fixed_dictionaries(dict.fromkeys(params, query_values)),
        body=st.fixed_dictionaries(dict.fromkeys(fields, json_values)),
        hostile_id=st.sampled_from(HOSTILE_IDS),
        real=st.booleans(),
    )
    def run(query, body, hostile_id, real):
        target = path.replace("{id}", _id_for(path, ids) if real else hostile_id)
        target = target.replace("{", "").replace("}", "")  # other path params: junk
        url = f"{target}?{_query(query)}" if query else target
        if method in ("get", "delete"):
            seen.append((f"{method.upper()} {url[:150]}", call(url).status_code))
            return
        payload = json.dumps(body)  # lone surrogates travel as \\udxxx escapes
        response = call(url, data=payload, content_type="application/json")
        seen.append((f"{method.upper()} {url[:150]} {payload[:150]}", response.status_code))

    return run


def test_hostile_values_on_every_api_operation_are_never_a_500(org_a):
    _seed(org_a)
    spec = _openapi()
    client = org_a.api_client()
    client.raise_request_exception = False  # collect every 500, not only the first
    ids = _real_ids(client, spec)
    seen = []
    operations = list(_operations(spec))
    assert len(operations) >= 50

    for method, path, params, fields in operations:
        run = _api_runner(client, method, path, params, fields, ids, seen)
        run()
        if method == "get" and params:
            for value in SWEEP:
                target = path.replace("{id}", _id_for(path, ids))
                url = f"{target}?{_query(dict.fromkeys(params, value))}"
                seen.append((f"GET {url[:150]}", client.get(url).status_code))
        if method in ("post", "put", "patch"):
            url = path.replace("{id}", _id_for(path, ids))
            response = getattr(client, method)(url, data=DEEP_RAW, content_type="application/json")
            seen.append((f"{method.upper()} {url} <deep>", response.status_code))
            assert response.status_code in (400, 403, 404, 405, 415), (url, response.status_code)

    failures = _failures(seen)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])


EVENT_FIELDS = ["id", "community", "user", "display_name", "name_card", "occurred_at", "text"]


def test_hostile_fields_inside_events_are_never_a_500(org_a):
    client = org_a.api_client()
    seen = []

    @hypothesis_settings
    @given(
        events=st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(sorted(EVENT_TYPES)), "platform": st.just("wechat")},
                optional={f: st.sampled_from(HOSTILE_STRINGS) for f in EVENT_FIELDS},
            ),
            min_size=1,
            max_size=4,
        )
    )
    def run(events):
        payload = json.dumps({"events": events})
        response = client.post("/api/v1/events/", data=payload, content_type="application/json")
        seen.append((payload[:200], response.status_code))

    run()
    for field in ["display_name", "user", "community", "id"]:
        event = {
            "id": "evt-nul",
            "type": "member.joined",
            "platform": "wechat",
            "community": "g",
            "user": "u",
            "occurred_at": "2026-11-21T20:00:00+08:00",
            field: "a\x00b",
        }
        response = client.post("/api/v1/events/", {"events": [event]}, "application/json")
        seen.append((f"NUL in {field}", response.status_code))
    failures = _failures(seen)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:20])


def _dashboard_url(route, tenant):
    kwargs = dict(ROUTE_KWARGS[route.name](tenant)) if route.object_kwargs else {}
    kwargs["org_slug"] = tenant.org.slug
    return reverse(route.name, kwargs=kwargs)


def _get_all(client, url):
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # a stream that fails half-way counts too
    return response


def _dashboard_runner(client, url, seen):
    @hypothesis_settings
    @given(
        query=st.dictionaries(
            st.sampled_from(DASHBOARD_PARAMS), query_values, min_size=1, max_size=6
        )
    )
    def run(query):
        full = f"{url}?{_query(query)}"
        seen.append((f"GET {full[:200]}", _get_all(client, full).status_code))

    return run


def test_hostile_values_on_every_dashboard_get_are_never_a_500(org_a):
    _seed(org_a)
    client = org_a.client_for(org_a.owner)
    client.raise_request_exception = False
    seen = []
    for route in ORG_ROUTES:
        url = _dashboard_url(route, org_a)
        run = _dashboard_runner(client, url, seen)
        if client.get(url).status_code == 405:
            continue  # POST-only: the bad-input walk (tests/test_bad_input.py) posts to it
        run()
        for value in SWEEP:
            full = f"{url}?{_query(dict.fromkeys(DASHBOARD_PARAMS, value))}"
            seen.append((f"GET {full[:200]}", _get_all(client, full).status_code))
    assert len(seen) > 500
    failures = _failures(seen)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])
