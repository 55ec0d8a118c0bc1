"""Reads that are more than a filter: what an actor may see, staff load."""

from django.db.models import Count, Q
from django.http import Http404

from tenancy.models import OrgMembership
from tenancy.permissions import COMMUNITY_ROLE_CAPABILITIES, can
from tenancy.roles import CommunityRole

from .models import Community, CommunityKind, StaffAssignment


def visible_communities(actor):
    """Every group for org-wide viewers; a staff member's assigned groups for the rest."""
    qs = Community.objects.for_org(actor.organization)
    if can(actor, "community.view"):
        return qs
    return qs.filter(pk__in=list(actor.community_roles_ids()))


def communities_where(actor, capability):
    """The groups in which the actor holds `capability`: every group when it is org-wide,
    else the assigned groups whose roles grant it. A queryset; nothing is loaded."""
    qs = Community.objects.for_org(actor.organization)
    if can(actor, capability):
        return qs
    granted = [
        community_id
        for community_id in actor.community_roles_ids()
        if any(
            capability in COMMUNITY_ROLE_CAPABILITIES[r]
            for r in actor.community_roles(community_id)
        )
    ]
    return qs.filter(pk__in=granted)


def community_for(actor, pk) -> Community:
    """One group the actor may see, or 404 (also for another org's group or a bad id)."""
    try:
        return visible_communities(actor).select_related("parent", "required_tier").get(pk=pk)
    except (Community.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def active_staff(org):
    return (
        StaffAssignment.objects.for_org(org)
        .filter(ended_at=None)
        .select_related("user", "community")
        .order_by("community__name", "role")
    )


def staff_directory(org):
    """People of the organization with their active groups and sub-owner load."""
    memberships = (
        OrgMembership.objects.for_org(org)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    assignments = {}
    for assignment in active_staff(org).filter(community__status="active"):
        assignments.setdefault(assignment.user_id, []).append(assignment)
    limit = org.sub_owner_community_limit
    rows = []
    for membership in memberships:
        mine = assignments.get(membership.user_id, [])
        sub_owned = {a.community_id for a in mine if a.role == CommunityRole.SUB_OWNER}
        rows.append(
            {
                "membership": membership,
                "user": membership.user,
                "assignments": mine,
                "community_count": len({a.community_id for a in mine}),
                "sub_owner_count": len(sub_owned),
                "over_limit": len(sub_owned) > limit,
            }
        )
    return rows


def sub_owner_counts(org) -> dict:
    """{user_id: number of active groups they are sub-owner of}."""
    rows = (
        StaffAssignment.objects.for_org(org)
        .filter(ended_at=None, role=CommunityRole.SUB_OWNER, community__status="active")
        .values("user_id")
        .annotate(n=Count("community", distinct=True, filter=Q(ended_at=None)))
    )
    return {row["user_id"]: row["n"] for row in rows}


def dashboard_summary(actor) -> dict:
    """What the overview page shows about groups: counts by kind, the actor's own groups,
    sub-owners over the limit (for those who manage staff)."""
    groups = visible_communities(actor).filter(status="active")
    by_kind = dict(groups.values_list("kind").annotate(n=Count("pk")).order_by())
    summary = {"total": sum(by_kind.values()), "by_kind": by_kind, "mine": [], "over_limit": 0}
    if actor.user is not None:
        summary["mine"] = list(
            StaffAssignment.objects.for_org(actor.organization)
            .filter(user=actor.user, ended_at=None, community__status="active")
            .select_related("community")
            .order_by("community__name")[:20]
        )
    if can(actor, "community.staff.manage"):
        limit = actor.organization.sub_owner_community_limit
        summary["over_limit"] = sum(
            1 for n in sub_owner_counts(actor.organization).values() if n > limit
        )
    return summary


def home_panel(*, actor) -> dict:
    """The groups summary on the organization's home (registered on `tenancy.hooks`)."""
    return {"groups": dashboard_summary(actor), "kinds": dict(CommunityKind.choices)}


def staff_roles_of(*, actor) -> dict:
    """{community id: {role, …}} of the actor's current staff assignments, one query
    (registered on `tenancy.hooks.community_roles`)."""
    roles: dict = {}
    rows = StaffAssignment.objects.for_org(actor.organization).filter(
        user=actor.user, ended_at=None
    )
    for community_id, role in rows.values_list("community_id", "role"):
        roles.setdefault(community_id, set()).add(role)
    return roles
