"""The one permission matrix.

Views, the DRF permission class, templates (`{% can %}`) and services all ask
`can(actor, capability, community=None)`. Org roles grant capabilities across the whole
organization; staff hold community roles and get capabilities only in their communities.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .roles import CommunityRole, OrgRole

# Every capability in the product, with what it allows. Later issues use these names.
CAPABILITIES: dict[str, str] = {
    "org.view": _("See the organization's dashboard"),
    "org.manage": _("Change organization settings"),
    "team.view": _("See the team and invitations"),
    "team.manage": _("Invite people, change their roles, deactivate them"),
    "apikey.manage": _("Create and revoke API keys"),
    "audit.view": _("Read the audit log"),
    "community.view": _("See communities, their rules and staff"),
    "community.manage": _("Create, edit and archive communities, rules and VIP tiers"),
    "community.staff.manage": _("Assign staff to communities"),
    "member.view": _("See members and their history"),
    "member.edit": _("Edit members: tags, notes, identities"),
    "member.warn": _("Warn members"),
    "member.remove": _("Remove members from a community"),
    "member.points.adjust": _("Adjust points by hand"),
    "member.erase": _("Export a member's personal data and erase it on request"),
    "content.view": _("See the content calendar"),
    "content.draft": _("Draft posts and plans"),
    "content.manage": _("Schedule, edit and cancel posts and plans"),
    "content.approve": _("Approve drafted posts"),
    "campaign.view": _("See campaigns"),
    "campaign.manage": _("Create and run campaigns"),
    "order.manage": _("Mark orders paid, cancel and refund them"),
    "care.view": _("See complaints and follow-ups"),
    "care.manage": _("Handle complaints and follow-ups"),
    "engagement.view": _("See polls, surveys and the suggestion box"),
    "engagement.manage": _("Run polls and surveys; answer suggestions"),
    "metrics.view": _("See activity and conversion metrics"),
    "metrics.revenue": _("See revenue and commissions"),
    "metrics.export": _("Export tables as CSV"),
    "integration.ingest": _("Send events from bots"),
    "integration.actions": _("Poll and acknowledge outbound actions"),
    "webhook.manage": _("Manage webhook endpoints"),
    "duty.manage": _("Set the duties of each role"),
    "duty.tick": _("Tick duties done by hand"),
    "goal.manage": _("Set, raise and drop goals"),
    "award.confirm": _("Confirm the monthly awards' winners"),
}

_READ = {
    "org.view",
    "community.view",
    "member.view",
    "content.view",
    "campaign.view",
    "care.view",
    "metrics.view",
    "engagement.view",
}

ORG_ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    OrgRole.OWNER: frozenset(CAPABILITIES),
    # The owner confirms the monthly awards (seed 002: 最佳服务奖, 最佳活跃奖).
    OrgRole.MANAGER: frozenset(CAPABILITIES) - {"apikey.manage", "org.manage", "award.confirm"},
    OrgRole.ANALYST: frozenset(_READ | {"metrics.revenue", "metrics.export"}),
    # Staff see the dashboard; everything else comes from their community roles.
    OrgRole.STAFF: frozenset({"org.view"}),
}

# Campaigns (flash sales, group buys, lotteries) are the sub-owner's and the benefits officer's
# business: deputies, topic and content officers do not see them.
_COMMUNITY_READ = {"community.view", "member.view", "content.view", "care.view", "engagement.view"}
# Everyone on a group's staff ticks the duties of their role there that Qunyun cannot see.
_COMMUNITY_READ_AND_TICK = _COMMUNITY_READ | {"duty.tick"}

COMMUNITY_ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    CommunityRole.SUB_OWNER: frozenset(
        _COMMUNITY_READ_AND_TICK
        | {
            "member.edit",
            "member.warn",
            "member.remove",
            "member.points.adjust",
            "content.draft",
            "content.manage",
            "content.approve",
            "care.manage",
            "metrics.view",
            "metrics.export",
            "campaign.view",
            "campaign.manage",
            "order.manage",
            "engagement.manage",
        }
    ),
    # Deputies and topic officers answer for their groups' activity: they see its metrics
    # (never revenue or commissions, which need the org-wide metrics.revenue).
    CommunityRole.DEPUTY: frozenset(
        _COMMUNITY_READ_AND_TICK
        | {
            "member.edit",
            "member.warn",
            "member.remove",
            "care.manage",
            "metrics.view",
            "engagement.manage",
        }
    ),
    # Polls and surveys are interactions: the topic officer's (seed 002: 话题官) as well.
    CommunityRole.TOPIC_OFFICER: frozenset(
        _COMMUNITY_READ_AND_TICK | {"content.draft", "metrics.view", "engagement.manage"}
    ),
    CommunityRole.BENEFITS_OFFICER: frozenset(
        _COMMUNITY_READ_AND_TICK
        | {"member.points.adjust", "campaign.view", "campaign.manage", "order.manage"}
    ),
    CommunityRole.CONTENT_OFFICER: frozenset(_COMMUNITY_READ_AND_TICK | {"content.draft"}),
}


def _check_matrix() -> None:
    for caps in (*ORG_ROLE_CAPABILITIES.values(), *COMMUNITY_ROLE_CAPABILITIES.values()):
        unknown = caps - CAPABILITIES.keys()
        if unknown:
            raise AssertionError(f"unknown capabilities in the matrix: {sorted(unknown)}")


_check_matrix()


def can(actor, capability: str, community=None) -> bool:
    """May `actor` do `capability` (in `community`, or organization-wide when None)?"""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    if actor is None:
        return False
    if actor.is_system:
        return True
    if capability in ORG_ROLE_CAPABILITIES.get(actor.role, frozenset()):
        return True
    if community is None:
        return False
    if community.organization_id != actor.organization.pk:
        return False
    return any(
        capability in COMMUNITY_ROLE_CAPABILITIES[role]
        for role in actor.community_roles(community.pk)
    )


def communities_granting(actor, capability: str) -> set:
    """Ids of the communities where the actor's community roles grant `capability`."""
    if actor is None or actor.is_system:
        return set()
    return {
        community_id
        for community_id in actor.community_roles_ids()
        if any(
            capability in COMMUNITY_ROLE_CAPABILITIES[r]
            for r in actor.community_roles(community_id)
        )
    }


def can_anywhere(actor, capability: str) -> bool:
    """Org-wide, or in at least one of the actor's communities (e.g. to show a menu entry)."""
    return can(actor, capability) or bool(communities_granting(actor, capability))


def require(actor, capability: str, community=None) -> None:
    """Raise PermissionDenied unless `can(...)`. Services use it as a second line of defence."""
    if not can(actor, capability, community):
        raise PermissionDenied(_("You do not have permission to do that."))


def require_for(actor, capability: str, member, community=None) -> None:
    """A member may do for themself what staff need `capability` for (place an order, join a
    team, enter a lottery); for anyone else this is `require`."""
    if getattr(actor, "member", None) is not None:
        if actor.member.pk != member.pk or actor.organization.pk != member.organization_id:
            raise PermissionDenied(_("You do not have permission to do that."))
        return
    require(actor, capability, community)


def capabilities_of(actor) -> list[str]:
    """Organization-wide capabilities of an actor, sorted (shown by /api/v1/me/)."""
    if actor.is_system:
        return sorted(CAPABILITIES)
    return sorted(ORG_ROLE_CAPABILITIES.get(actor.role, frozenset()))
