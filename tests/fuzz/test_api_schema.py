"""Schemathesis over the API's own OpenAPI schema (drf-spectacular), against the WSGI app.

Every operation of the schema is walked (new apps' routes are covered without a list to keep)
with a few deterministic valid and invalid examples each, as the owner key of an organization with data in it:
no response may be a server error, and every response must match the schema. Path ids are
real objects of that organization half of the time (taken from the list operations), so the
detail serializers run, and made-up ids the other half (which must be clean 404s)."""

import json
from collections.abc import Callable
from contextlib import contextmanager

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import (
    CampaignFactory,
    CommunityFactory,
    MembershipFactory,
    OrderFactory,
    WarningFactory,
    WebhookDeliveryFactory,
    member_payload,
)

MAX_EXAMPLES = 6
# Valid requests (must succeed or fail cleanly) and invalid ones (must be refused, never a 500).
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    raw = json.loads(OpenApiJsonRenderer().render(generated))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


def _seed(tenant) -> None:
    """A little of everything, so list and detail operations have rows to serialize."""
    from integrations import outbox

    community = CommunityFactory(organization=tenant.org)
    memberships = [
        MembershipFactory(organization=tenant.org, community=community) for _ in range(3)
    ]
    WarningFactory(organization=tenant.org, membership=memberships[0])
    OrderFactory(organization=tenant.org, member=memberships[1].member)
    CampaignFactory(organization=tenant.org)
    WebhookDeliveryFactory(organization=tenant.org)
    payload = member_payload()
    del payload["community_external_id"], payload["platform"]  # the group's
    outbox.enqueue(organization=tenant.org, kind="member.welcome", community=community, **payload)


def _real_ids(client, schema) -> dict[str, list]:
    """Ids of existing objects by collection path ("/api/v1/members/"), from the list operations."""
    ids = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or "{" in operation.path:
            continue
        response = client.get(operation.path)
        if response.status_code != 200 or response["Content-Type"] != "application/json":
            continue
        body = response.json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(rows, list):
            found = [row["id"] for row in rows if isinstance(row, dict) and "id" in row]
            if found:
                ids[operation.path] = found
    return ids


def _id_chooser(path: str, real: dict[str, list]) -> Callable:
    collection = path.split("{", 1)[0]
    choices = real.get(collection, [])

    def choose(case) -> None:
        value = (case.path_parameters or {}).get("id")
        if choices and isinstance(value, int) and value % 2 == 0:
            case.path_parameters["id"] = choices[value % len(choices)]

    return choose


def _fuzzer(operation, headers, choose_id, mode):
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, headers=headers))
    def run(case):
        choose_id(case)
        with _test_transaction_kept():
            case.call_and_validate(checks=CHECKS)

    return run


@contextmanager
def _test_transaction_kept():
    """Django's WSGI handler closes "old" connections when a request starts and finishes, which
    would end the test's transaction; the test client does the same as this around each of its
    requests (and connects the handler again after, hence per request here too)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def test_every_operation_answers_without_server_errors_and_matches_the_schema(org_a, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    _seed(org_a)
    schema = _schema()
    real = _real_ids(org_a.api_client(), schema)
    headers = {"Authorization": f"Bearer {org_a.raw_key}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in MODES:
            run = _fuzzer(operation, headers, _id_chooser(operation.path, real), mode)
            try:
                run()
            except Unsatisfiable:  # nothing in the operation to make invalid (no inputs)
                assert mode == GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as exc:  # one report for every failure
                details = "\n".join(str(e) for e in getattr(exc, "exceptions", [exc]))
                failures.append(
                    f"{operation.method.upper()} {operation.path} ({mode.value}): {details}"[:3000]
                )
    assert operations >= 50
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
