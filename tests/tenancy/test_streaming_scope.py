"""Streamed responses (CSV exports) keep the organization's scope for the whole response
(issue 19, item 9). Their generators run after the view and the middleware have returned;
without `tenancy.scope.scoped_stream` every query of the export ran outside the scope (with
row-level security's former bypass value; now it would see no rows). Walks every dashboard and API list route, so a new streamed export is covered
without being named here."""

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import MemberFactory, OrderFactory
from tests.test_cross_tenant import API_LIST_ROUTES, ORG_LIST_ROUTES

pytestmark = pytest.mark.postgres


def _url(route, tenant):
    return reverse(route.name, kwargs={"org_slug": tenant.org.slug} if route.is_org_route else {})


def test_every_streamed_response_runs_its_queries_in_the_organizations_scope(org_a, org_b):
    for tenant in (org_a, org_b):
        for _ in range(3):
            OrderFactory(organization=tenant.org, member=MemberFactory(organization=tenant.org))
    web, api = org_a.client_for(org_a.owner), org_a.api_client()
    streamed = []
    for route in [*ORG_LIST_ROUTES, *API_LIST_ROUTES]:
        response = (web if route.is_org_route else api).get(_url(route, org_a))
        if not getattr(response, "streaming", False):
            continue
        seen = []

        def record(execute, sql, params, many, context, seen=seen):
            seen.append(context["connection"].rls_value)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            body = b"".join(response.streaming_content).decode("utf-8-sig")
        streamed.append(route.name)
        assert seen, f"{route.name}: the stream ran no query"
        # (app.org_id, app.lookup) as the connection set them for each query
        assert set(seen) == {(str(org_a.org.pk), "")}, f"{route.name} streamed with {seen}"
        assert org_b.org.name not in body
    assert {"members-export", "orders-export", "api:members-export", "api:orders-export"} <= set(
        streamed
    ), streamed
