"""What every members endpoint shares: the capabilities it checks, the member list's shape."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch

from members import privacy
from members.models import (
    Block,
    MemberIdentity,
)
from members.selectors import visible_memberships

# Capabilities. SEE gates reading (what a key then sees is decided by the queryset) and the
# per-group actions, which check their own capability in the object's group.
SEE = "org.view"
EDIT = "member.edit"
WARN = "member.warn"
REMOVE = "member.remove"
POINTS = "member.points.adjust"
EXPORT = "metrics.export"
PRIVACY = privacy.CAPABILITY
ACTIONS = "integration.actions"
CHANGES_SHOWN = 100  # a membership's status history in its detail: the latest 100


def members_for_display(actor, queryset):
    """Members with what their serializer shows, in a constant number of queries: tier, block
    flag, identities and the memberships the actor may see (with their groups)."""
    org = actor.organization
    return (
        queryset.select_related("tier")
        .annotate(
            is_blocked=Exists(
                Block.objects.for_org(org).filter(member=OuterRef("pk"), lifted_at=None)
            )
        )
        .prefetch_related(
            Prefetch("identities", queryset=MemberIdentity.objects.for_org(org).order_by("pk")),
            Prefetch(
                "memberships",
                queryset=visible_memberships(actor).select_related("community").order_by("pk"),
                to_attr="visible_memberships",
            ),
        )
    )
