"""The cross-tenant harness for the member pages (/m/<org>/): org B's objects are a 404 for a
member of org A, another member's orders are a 404, a session is one organization's, and no
member page of org A shows org B's data. Routes are registered in tests/tenant_routes.py;
`test_cross_tenant.test_every_route_is_known` fails for an unregistered one."""

import pytest
from django.test import Client
from django.urls import reverse

from communities import services as community_services
from portal.session import COOKIE

from .portal.conftest import make_member, signed_in
from .tenant_routes import MEMBER_OBJECT_KWARGS, MEMBER_OWNED, MEMBER_PAGES
from .urlwalk import all_routes

ROUTES = [r for r in all_routes() if r.is_member_route]
OBJECT_ROUTES = [r for r in ROUTES if r.name in MEMBER_OBJECT_KWARGS]
PAGE_ROUTES = [r for r in ROUTES if r.name in MEMBER_PAGES]
OWNED_ROUTES = [r for r in ROUTES if r.name in MEMBER_OWNED]


def _ids(routes):
    return [r.name for r in routes]


def test_the_member_routes_are_walked():
    names = {r.name for r in ROUTES}
    assert {"member-me", "member-buy", "member-order", "member-team-join"} <= names
    assert len(OBJECT_ROUTES) + len(PAGE_ROUTES) == len(ROUTES)


@pytest.fixture
def members(org_a, org_b):
    """A member in each organization, and a second member of org A."""
    a_group = community_services.community_create(actor=org_a.actor(), name="A 群")
    b_group = community_services.community_create(actor=org_b.actor(), name="ORG-B-MARKER 群")
    return (
        make_member(org_a.org, a_group, "甲"),
        make_member(org_b.org, b_group, "ORG-B-MARKER 乙"),
        make_member(org_a.org, a_group, "丙"),
    )


def _url(route, org, kwargs=None):
    return reverse(route.name, kwargs={"org": org.slug, **(kwargs or {})})


def _assert_not_found(client, url):
    statuses = {m: getattr(client, m)(url).status_code for m in ("get", "post")}
    assert set(statuses.values()) <= {404, 405} and 404 in statuses.values(), (url, statuses)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=_ids(OBJECT_ROUTES))
def test_other_orgs_object_on_own_pages_is_404(route, org_a, org_b, members):
    a_member, b_member, _other = members
    kwargs = MEMBER_OBJECT_KWARGS[route.name](org_b, b_member)
    _assert_not_found(signed_in(a_member), _url(route, org_a.org, kwargs))


@pytest.mark.parametrize("route", OWNED_ROUTES, ids=_ids(OWNED_ROUTES))
def test_another_members_object_is_404(route, org_a, members):
    a_member, _b_member, other = members
    kwargs = MEMBER_OBJECT_KWARGS[route.name](org_a, other)
    _assert_not_found(signed_in(a_member), _url(route, org_a.org, kwargs))


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=_ids(PAGE_ROUTES))
def test_own_pages_show_no_other_org_data(route, org_a, org_b, members):
    a_member, b_member, _other = members
    MEMBER_OBJECT_KWARGS["member-campaign"](org_b, b_member)  # a live campaign in org B
    response = signed_in(a_member).get(_url(route, org_a.org))
    assert response.status_code in (200, 302, 405)
    assert "ORG-B-MARKER" not in response.content.decode()


@pytest.mark.parametrize("route", PAGE_ROUTES + OWNED_ROUTES, ids=_ids(PAGE_ROUTES + OWNED_ROUTES))
def test_a_session_of_org_a_signs_nobody_in_at_org_b(route, org_a, org_b, members):
    a_member, b_member, _other = members
    key = signed_in(a_member).cookies[COOKIE].value
    client = Client()
    client.cookies[COOKIE] = key
    kwargs = MEMBER_OBJECT_KWARGS[route.name](org_b, b_member) if route.name in MEMBER_OWNED else {}
    response = client.get(_url(route, org_b.org, kwargs))
    assert response.status_code in (302, 404, 405, 200)
    body = response.content.decode()
    assert "甲" not in body
    if route.name in ("member-me", "member-order", "member-report"):
        assert response.status_code == 302
        assert response["Location"] == reverse("member-signin", kwargs={"org": org_b.org.slug})
