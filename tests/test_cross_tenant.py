"""The cross-tenant harness: every route, walked automatically.

A user or API key of org A must get 404 (never data, never 403) for org B's objects, and
org B's data must never show on org A's pages or API lists. A route that is neither covered
by `tests/tenant_routes.py` nor exempted there with a reason fails `test_every_route_is_known`.
"""

import pytest
from django.urls import reverse

from .factories import AuditLogEntryFactory, InvitationFactory
from .tenant_routes import (
    EXEMPT,
    MEMBER_OBJECT_KWARGS,
    MEMBER_PAGES,
    NAMED_KWARGS,
    OBJECT_KWARGS,
    ROUTE_KWARGS,
)
from .urlwalk import all_routes

ROUTES = all_routes()
MUTATING = ("post", "put", "patch", "delete")


def _exempt(route) -> bool:
    return route.name in EXEMPT or any(
        route.name.startswith(prefix) for prefix in EXEMPT if prefix.endswith(":")
    )


ORG_ROUTES = [r for r in ROUTES if r.is_org_route and not _exempt(r)]
API_ROUTES = [r for r in ROUTES if r.is_api and not _exempt(r)]
ORG_OBJECT_ROUTES = [r for r in ORG_ROUTES if r.object_kwargs and r.name not in NAMED_KWARGS]
API_OBJECT_ROUTES = [r for r in API_ROUTES if r.object_kwargs]
API_LIST_ROUTES = [r for r in API_ROUTES if not r.object_kwargs]
ORG_LIST_ROUTES = [r for r in ORG_ROUTES if not r.object_kwargs]
ORG_NAMED_ROUTES = [r for r in ORG_ROUTES if r.name in NAMED_KWARGS]


def _ids(routes):
    return [r.name for r in routes]


def test_every_route_is_known():
    problems = []
    for route in ROUTES:
        if _exempt(route):
            continue
        if route.is_member_route:
            if route.name not in MEMBER_OBJECT_KWARGS and route.name not in MEMBER_PAGES:
                problems.append(f"{route.name} ({route.route}): add it to MEMBER_OBJECT_KWARGS")
            continue
        if not (route.is_org_route or route.is_api):
            problems.append(f"{route.name} ({route.route}): not under /o/<org_slug>/ or /api/v1/")
        elif route.object_kwargs and route.name not in ROUTE_KWARGS:
            problems.append(f"{route.name} ({route.route}): add it to OBJECT_KWARGS")
    registered = [*OBJECT_KWARGS, *NAMED_KWARGS, *EXEMPT, *MEMBER_OBJECT_KWARGS, *MEMBER_PAGES]
    stale = [n for n in registered if not n.endswith(":") and n not in _names()]
    assert not problems, "routes the harness does not cover:\n" + "\n".join(problems)
    assert not stale, f"registry names that match no route: {stale}"


def _names():
    return {r.name for r in ROUTES}


def test_harness_sees_the_routes_it_should():
    # Guard against a walker that silently finds nothing.
    names = _names()
    assert {"dashboard", "team", "api-keys", "api:me", "api:audit-log-detail"} <= names


def _body(response) -> str:
    """The text of a response, streamed (CSV exports) or not."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _assert_not_found(client, url):
    """GET and POST both answer 404; a method the view does not take may answer 405."""
    statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
    assert set(statuses.values()) <= {404, 405} and 404 in statuses.values(), (url, statuses)


@pytest.fixture
def b_markers(org_b):
    """Data of org B that must never appear anywhere for org A."""
    AuditLogEntryFactory(organization=org_b.org, summary="ORG-B-MARKER")
    InvitationFactory(organization=org_b.org, email="invitee-org-b-marker@example.com")
    return ["-b@example.com", "ORG-B-MARKER", org_b.api_key.prefix, org_b.org.name]


def _url(route, slug, tenant):
    kwargs = {}
    if route.object_kwargs:
        kwargs = dict(ROUTE_KWARGS[route.name](tenant))
    if route.is_org_route:
        kwargs["org_slug"] = slug
    return reverse(route.name, kwargs=kwargs)


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids(ORG_ROUTES))
def test_other_orgs_dashboard_is_404(route, org_a, org_b, b_markers):
    client = org_a.client_for(org_a.owner)
    url = _url(route, org_b.org.slug, org_b)
    _assert_not_found(client, url)


@pytest.mark.parametrize("route", ORG_OBJECT_ROUTES, ids=_ids(ORG_OBJECT_ROUTES))
def test_other_orgs_object_in_own_dashboard_is_404(route, org_a, org_b, b_markers):
    client = org_a.client_for(org_a.owner)
    url = _url(route, org_a.org.slug, org_b)
    _assert_not_found(client, url)


@pytest.mark.parametrize(
    "route", ORG_LIST_ROUTES + ORG_NAMED_ROUTES, ids=_ids(ORG_LIST_ROUTES + ORG_NAMED_ROUTES)
)
def test_own_pages_show_no_other_org_data(route, org_a, org_b, b_markers):
    client = org_a.client_for(org_a.owner)
    response = client.get(_url(route, org_a.org.slug, org_a))
    assert response.status_code in (200, 405)
    body = _body(response)
    for marker in b_markers:
        assert marker not in body, f"{route.name} shows {marker!r} of org B"


@pytest.mark.parametrize("route", API_OBJECT_ROUTES, ids=_ids(API_OBJECT_ROUTES))
def test_other_orgs_api_object_is_404(route, org_a, org_b, b_markers):
    """Every method answers 404, or 405 where the route does not take it; never data."""
    client = org_a.api_client()
    url = _url(route, None, org_b)
    statuses = {}
    for method in ("get", *MUTATING):
        response = getattr(client, method)(url, data={}, content_type="application/json")
        statuses[method] = response.status_code
        assert b"ORG-B-MARKER" not in response.content
    assert set(statuses.values()) <= {404, 405} and 404 in statuses.values(), (url, statuses)


@pytest.mark.parametrize("route", API_LIST_ROUTES, ids=_ids(API_LIST_ROUTES))
def test_api_lists_show_no_other_org_data(route, org_a, org_b, b_markers):
    response = org_a.api_client().get(_url(route, None, org_a))
    if response.status_code == 405:  # write-only (e.g. event ingestion): nothing to list
        return
    assert response.status_code == 200
    body = _body(response).lstrip("\ufeff")
    for marker in b_markers:
        assert marker not in body, f"{route.name} shows {marker!r} of org B"


@pytest.mark.parametrize("route", API_ROUTES, ids=_ids(API_ROUTES))
def test_api_needs_a_key(route, org_a, client):
    response = client.get(_url(route, None, org_a))
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("not_authenticated", "authentication_failed")


@pytest.mark.parametrize("route", API_ROUTES, ids=_ids(API_ROUTES))
def test_api_revoked_key_is_refused(route, org_a):
    org_a.api_key.revoked_at = org_a.api_key.created_at
    org_a.api_key.save(update_fields=["revoked_at"])
    response = org_a.api_client().get(_url(route, None, org_a))
    assert response.status_code == 401
