"""The permission matrix, enumerated: every role against every capability, and every
dashboard and API route against every role."""

import pytest
from django.urls import reverse

from tenancy import actors
from tenancy.actors import Actor
from tenancy.api_permissions import required_capability
from tenancy.permissions import (
    CAPABILITIES,
    COMMUNITY_ROLE_CAPABILITIES,
    ORG_ROLE_CAPABILITIES,
    can,
    capabilities_of,
)
from tenancy.roles import CommunityRole, OrgRole

from ..tenant_routes import ROUTE_KWARGS
from ..test_cross_tenant import API_ROUTES, ORG_ROUTES

EXPECTED_ORG_ROLES = {
    # the capabilities each org role must NOT have; everything else is granted
    OrgRole.OWNER: set(),
    OrgRole.MANAGER: {"apikey.manage", "org.manage", "award.confirm"},
}
READ_ONLY = {
    "org.view",
    "community.view",
    "member.view",
    "content.view",
    "campaign.view",
    "care.view",
    "metrics.view",
    "metrics.revenue",
    "metrics.export",
    "engagement.view",
}


class _Org:
    pk = 1


class _Community:
    def __init__(self, pk, organization_id=1):
        self.pk = pk
        self.organization_id = organization_id


def _actor(role, community_roles=None):
    actor = Actor(organization=_Org(), role=role)
    actor._community_roles = community_roles or {}
    return actor


@pytest.mark.parametrize("role", list(OrgRole))
@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
def test_org_role_matrix(role, capability):
    if role in EXPECTED_ORG_ROLES:
        expected = capability not in EXPECTED_ORG_ROLES[role]
    elif role == OrgRole.ANALYST:
        expected = capability in READ_ONLY
    else:  # staff: only the dashboard itself, the rest comes per community
        expected = capability == "org.view"
    assert can(_actor(role), capability) is expected


def test_analyst_is_read_only():
    writes = [c for c in ORG_ROLE_CAPABILITIES[OrgRole.ANALYST] if not c.endswith((".view",))]
    assert sorted(writes) == ["metrics.export", "metrics.revenue"]


@pytest.mark.parametrize("role", list(CommunityRole))
@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
def test_community_roles_apply_only_in_their_community(role, capability):
    actor = _actor(OrgRole.STAFF, {7: {role}})
    granted = capability in COMMUNITY_ROLE_CAPABILITIES[role]
    assert can(actor, capability, _Community(7)) is (granted or capability == "org.view")
    # another community of the same org, or a community of another org: nothing extra
    assert can(actor, capability, _Community(8)) is (capability == "org.view")
    assert can(actor, capability, _Community(7, organization_id=2)) is (capability == "org.view")


def test_deputy_can_warn_and_remove_but_not_manage_keys():
    actor = _actor(OrgRole.STAFF, {7: {CommunityRole.DEPUTY}})
    assert can(actor, "member.warn", _Community(7))
    assert can(actor, "member.remove", _Community(7))
    assert not can(actor, "apikey.manage", _Community(7))
    assert not can(actor, "member.warn")


def test_unknown_capability_is_a_programming_error():
    with pytest.raises(KeyError):
        can(_actor(OrgRole.OWNER), "no.such.thing")


def test_nobody_and_system():
    assert can(None, "org.view") is False
    assert can(Actor.system(_Org()), "apikey.manage") is True
    assert capabilities_of(Actor.system(_Org())) == sorted(CAPABILITIES)


def test_load_community_roles_defaults_to_none():
    assert actors.load_community_roles(_actor(OrgRole.STAFF)) == {}


# --- Every route against every role ---------------------------------------------------------

ROLE_USERS = ["owner", "manager", "analyst", "deputy"]
ROLE_OF = {
    "owner": OrgRole.OWNER,
    "manager": OrgRole.MANAGER,
    "analyst": OrgRole.ANALYST,
    "deputy": OrgRole.STAFF,
}


def _view_capability(route, method):
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    return getattr(view_class, "capability", None), view_class


def test_every_route_names_a_known_capability():
    for route in [*ORG_ROUTES, *API_ROUTES]:
        view_class = getattr(route.callback, "view_class", None) or route.callback.cls
        caps = [getattr(view_class, "capability", None)]
        caps += list((getattr(view_class, "capabilities", None) or {}).values())
        caps = [c for c in caps if c]
        assert caps, f"{route.name} names no capability"
        assert set(caps) <= CAPABILITIES.keys(), route.name


@pytest.mark.parametrize("who", ROLE_USERS)
@pytest.mark.parametrize("route", ORG_ROUTES, ids=[r.name for r in ORG_ROUTES])
def test_dashboard_route_role_matrix(route, who, org_a):
    """Each role gets exactly what the matrix says: the page, 403, or (a group it is not
    staff of) 404. Staff assignments are tested on their own below."""
    capability, view_class = _view_capability(route, "get")
    actor = _actor(ROLE_OF[who])
    community_capability = getattr(view_class, "community_capability", None)
    if hasattr(view_class, "community_capability_for"):
        community_capability = view_class.community_capability_for(
            dict(route.default_kwargs).get("action")
        )
    visibility = getattr(view_class, "visibility_capability", "community.view")
    anywhere = getattr(view_class, "capability_anywhere", None)
    if community_capability and not can(actor, visibility):
        expected = {404}  # the unassigned staff member cannot see the group's objects
    elif anywhere and not can(actor, anywhere):
        expected = {403}  # no group where they hold it (this staff member has none)
    elif can(actor, community_capability or capability):
        expected = {200, 302}
    else:
        expected = {403}
    kwargs = dict(ROUTE_KWARGS[route.name](org_a)) if route.object_kwargs else {}
    url = reverse(route.name, kwargs={"org_slug": org_a.org.slug, **kwargs})
    client = org_a.client_for(getattr(org_a, who))
    method = "get" if hasattr(view_class, "get") else "post"
    response = getattr(client, method)(url)
    assert response.status_code in expected, (who, url, response.status_code)


# Objects seen through their group: a staff key (no groups) gets 404 for them.
COMMUNITY_OBJECT_API_ROUTES = {
    "api:community-",
    "api:staff-assignment-",
    "api:member-",
    "api:identity-",
    "api:membership-",
    "api:warning-",
    "api:block-",
}


@pytest.mark.parametrize("role", [OrgRole.MANAGER, OrgRole.ANALYST, OrgRole.STAFF])
@pytest.mark.parametrize("route", API_ROUTES, ids=[r.name for r in API_ROUTES])
def test_api_route_role_matrix(route, role, org_a):
    """Each key role gets 403 exactly where the matrix denies the capability; where it allows
    it, the request goes through (a staff key has no groups, so group objects are 404)."""
    from tenancy.services import api_key_create

    _key, raw = api_key_create(actor=org_a.actor(), name=f"{role} key", role=role)
    actions = getattr(route.callback, "actions", None) or {}
    view_class = route.callback.cls
    method = "get" if ("get" in actions or (not actions and hasattr(view_class, "get"))) else "post"

    class _Req:
        pass

    _Req.method = method.upper()
    view = view_class()
    view.action = actions.get(method)
    capability = required_capability(view, _Req())
    kwargs = dict(ROUTE_KWARGS[route.name](org_a)) if route.object_kwargs else {}
    url = reverse(route.name, kwargs=kwargs)
    response = getattr(org_a.api_client(raw), method)(url, data={}, content_type="application/json")
    actor = _actor(role)
    # Per-group capabilities (warn, remove…) are checked by the action once it found the object.
    in_group = (getattr(view_class, "community_capabilities", None) or {}).get(view.action)
    if not can(actor, capability):
        assert response.status_code == 403, (role, route.name, response.status_code)
    elif (
        route.object_kwargs
        and not can(actor, "community.view")
        and any(route.name.startswith(prefix) for prefix in COMMUNITY_OBJECT_API_ROUTES)
    ):
        assert response.status_code == 404, (role, route.name, response.status_code)
    elif in_group and not can(actor, in_group):
        assert response.status_code == 403, (role, route.name, response.status_code)
    else:
        assert response.status_code not in (403, 404, 500), (role, route.name, response.status_code)
