"""REST API of members: people and their identities, memberships in groups, warnings, the block
list, points, the outbox of actions for the bots, and the CSV export and import.

Every write goes through `members.services` (or `members.csv_io` for imports), whose
ValidationError / PermissionDenied the API error handler turns into 400 / 403. Related ids are
looked up in the request's organization only, so another organization's id reads as "does not
exist"; no serializer takes an organization from input.

What a key sees: a member is visible when they have a membership in a group of
`visible_communities(actor)`; org-wide viewers (`member.view`: owner, manager, analyst) see every
member, also those who are in no group yet (e.g. imported ones). A staff-role key has no person
and so no groups behind it: empty lists and 404s, as the design asks. Memberships and warnings are
visible with their group, blocks and identities with their member.

Warn, remove, reinstate, revoke and the onboarding checklist are per-group capabilities (a deputy
holds them in their groups only): the gate is `org.view` and the action checks
`require(actor, community_capabilities[action], membership.community)` once it has found the
object, so an object the actor may not see is a 404 and one they may see but not change is a 403.

Lists use cursor pagination (newest first, by id); there is no `?ordering=` (see filters.py).
"""

from .blocks import BlockViewSet
from .members import IdentityViewSet, MemberViewSet
from .memberships import MembershipViewSet, WarningViewSet

__all__ = [
    "BlockViewSet",
    "IdentityViewSet",
    "MemberViewSet",
    "MembershipViewSet",
    "WarningViewSet",
]
