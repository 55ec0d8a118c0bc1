"""Staff assignments: who holds which role in which group."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    StaffAssignment,
)
from core.errors import Conflict
from tenancy import audit
from tenancy.models import OrgMembership
from tenancy.permissions import require
from tenancy.roles import CommunityRole, role_label

# --- Staff ---------------------------------------------------------------------------------


def staff_assign(*, actor, community: Community, user, role: str) -> StaffAssignment:
    require(actor, "community.staff.manage", community)
    if role not in CommunityRole.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    org = actor.organization
    if community.is_archived:
        raise Conflict(_("This group is archived."))
    if not OrgMembership.objects.for_org(org).filter(user=user, is_active=True).exists():
        raise ValidationError({"user": [_("This person is not in the organization.")]})
    existing = StaffAssignment.objects.for_org(org).filter(
        community=community, user=user, role=role, ended_at=None
    )
    if existing.exists():
        return existing.get()
    with transaction.atomic():
        assignment = StaffAssignment.objects.create(
            organization=org, community=community, user=user, role=role, assigned_by=actor.user
        )
        audit.record(
            actor=actor,
            action="community.staff_assign",
            obj=community,
            summary=f"{user.email} → {role_label(role)}",
        )
    return assignment


def staff_unassign(*, actor, assignment: StaffAssignment) -> StaffAssignment:
    require(actor, "community.staff.manage", assignment.community)
    if assignment.ended_at is not None:
        return assignment
    with transaction.atomic():
        assignment.ended_at = timezone.now()
        assignment.save(update_fields=["ended_at"])
        audit.record(
            actor=actor,
            action="community.staff_unassign",
            obj=assignment.community,
            summary=f"{assignment.user.email} ✕ {role_label(assignment.role)}",
        )
    return assignment


def communities_bulk_assign_staff(*, actor, communities, user, role) -> int:
    with transaction.atomic():
        for community in communities:
            staff_assign(actor=actor, community=community, user=user, role=role)
    return len(communities)
