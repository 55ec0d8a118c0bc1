"""Reads that are more than a filter: what an actor may see, staff load."""

from django.db.models import Count, Exists, Q, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.home import Step, TodayItem, TodaySection, first_of
from tenancy.models import Organization, OrgMembership
from tenancy.permissions import COMMUNITY_ROLE_CAPABILITIES, can, can_anywhere
from tenancy.roles import CommunityRole

from .models import (
    Community,
    CommunityKind,
    CommunityRules,
    ContentPlan,
    ContentType,
    PostStatus,
    ScheduledPost,
    StaffAssignment,
)


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
    """The groups summary and the drafts waiting for approval on the organization's home
    (registered on `tenancy.hooks.dashboard_panels`)."""
    return {
        "groups": dashboard_summary(actor),
        "kinds": dict(CommunityKind.choices),
        "today": [drafts_to_approve(actor)],
    }


def drafts_to_approve(actor) -> TodaySection:
    """Posts drafted by officers that wait for the actor's approval, the soonest first (a draft
    whose time has passed is overdue: it was not sent). Two queries."""
    if not can_anywhere(actor, "content.approve"):
        return TodaySection(key="drafts", title="", count=0)
    org = actor.organization
    rows, total = first_of(
        ScheduledPost.objects.for_org(org)
        .filter(
            status=PostStatus.DRAFT,
            community__in=communities_where(actor, "content.approve"),
        )
        .select_related("community"),
        "scheduled_at",
        "pk",
    )
    labels = dict(ContentType.choices)
    return TodaySection(
        key="drafts",
        title=_("Posts waiting for your approval"),
        count=total,
        items=[
            TodayItem(
                title=str(labels.get(post.content_type, post.content_type)),
                url=reverse("post-edit", args=[org.slug, post.pk]),
                meta=post.community.name,
                deadline=post.scheduled_at,
            )
            for post in rows
        ],
        url=reverse("calendar", args=[org.slug]),
        order=40,
    )


def first_steps(*, actor) -> list[Step]:
    """Three steps of a new organization's checklist, read in one query: the first group, a
    rules template applied to a group, a weekly content plan (registered on
    `tenancy.hooks.first_steps`)."""
    org = actor.organization
    groups = Community.objects.for_org(org).filter(status="active")
    first_group, templated, planned = (
        Organization.objects.filter(pk=org.pk)
        .annotate(
            first_group=Subquery(groups.order_by("pk").values("pk")[:1]),
            templated=Exists(CommunityRules.objects.for_org(org).exclude(source_template="")),
            planned=Exists(ContentPlan.objects.for_org(org)),
        )
        .values_list("first_group", "templated", "planned")
        .get()
    )
    manage = can(actor, "community.manage")
    rules_url = ""
    if manage:
        rules_url = (
            reverse("community-rules", args=[org.slug, first_group])
            if first_group
            else reverse("communities", args=[org.slug])
        )
    return [
        Step(
            key="group",
            label=_("Create or import your first group"),
            done=first_group is not None,
            order=10,
            url=reverse("community-create", args=[org.slug]) if manage else "",
            hint=_("Or let your bot send its first event: a group it names is created then."),
        ),
        Step(
            key="rules",
            label=_("Apply a rules template to a group"),
            done=templated,
            order=20,
            url=rules_url,
            hint=_("A ready-made intro, rules and welcome, drawn from groups that work well."),
        ),
        Step(
            key="plan",
            label=_("Plan the week's content"),
            done=planned,
            order=50,
            url=reverse("plan-create", args=[org.slug]) if can(actor, "content.manage") else "",
            hint=_("A weekly plan: tips on Monday, a member story on Wednesday, a deal on Friday…"),
        ),
    ]


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
