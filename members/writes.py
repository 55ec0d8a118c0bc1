"""What the members app's event handlers and moderation decide, collected in memory and written
with a handful of bulk statements (`MemberWrites.flush`) inside the caller's transaction."""

from __future__ import annotations

from core.bulk import bulk_update_rows
from integrations import outbox
from integrations.composer import compose
from tenancy.rls import org_hint

from .access import revoke_access
from .models import (
    Block,
    CheckIn,
    EntryReview,
    Invite,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    Warning,
)
from .points import post_points
from .status import status_change

MEMBERSHIP_FIELDS = [
    "status",
    "joined_at",
    "left_at",
    "churn_reason",
    "last_active_at",
    "message_count",
    "flood_window_start",
    "flood_count",
    "welcomed_at",
    "introduced_at",
    "name_card_ok",
    "dormant_since",
    "reactivated_at",
    "flags",
]


class MemberWrites:
    def __init__(self, organization, actor_label: str, newly_created=()):
        self.org = organization
        self.actor_label = str(actor_label)
        # (community id, identity id) of memberships this batch created: their first status
        # change is recorded from "" whatever the status they were created with
        self.newly_created = set(newly_created)
        self.dirty: dict = {}
        self.changes: list = []
        self.actions: list = []
        self.warnings: list = []
        self.blocks: list = []
        self.checkins: list = []
        self.invites: list = []
        self.reviews: list = []
        self.points: list = []
        self.dirty_members: dict = {}
        self.dirty_identities: dict = {}

    def touch(self, membership) -> None:
        self.dirty[membership.pk] = membership

    def is_new(self, membership) -> bool:
        return (membership.community_id, membership.identity_id) in self.newly_created

    def set_status(self, membership, status, at, reason="") -> None:
        new = self.is_new(membership)
        if membership.status == status and not new:
            return
        if new:
            self.newly_created.discard((membership.community_id, membership.identity_id))
        self.changes.append(
            status_change(
                membership,
                status,
                at=at,
                reason=reason,
                actor_label=self.actor_label,
                from_status="" if new else None,
            )
        )
        self.touch(membership)

    def flag(self, membership, flag) -> None:
        if flag not in membership.flags:
            membership.flags = [*membership.flags, flag]
            self.touch(membership)

    def compose(self, message_kind, community_id=None, **context) -> str:
        """A member-facing text in the organization's language and wording (the group's own
        where `community_id` has one; see integrations.composer)."""
        return compose(
            message_kind,
            context,
            language=self.org.default_language,
            org=self.org,
            community_id=community_id,
        )

    def action(self, kind, community, identity, **payload) -> None:
        self.actions.append(
            outbox.build(
                organization=self.org,
                kind=kind,
                community=community,
                member=identity.member,
                user_external_id=identity.external_user_id,
                display_name=identity.display_name or identity.member.display_name,
                **payload,
            )
        )

    def flush(self) -> None:
        # One organization's rows: named to row-level security, so the raw bulk UPDATE below
        # writes them when a service runs outside a scope too (inside one, the scope wins).
        with org_hint(self.org.pk):
            self._flush()

    def _flush(self) -> None:
        # Lock every member row this batch writes (names, balances) up front in id order, so
        # two batches touching the same people queue instead of deadlocking. FOR NO KEY UPDATE
        # (as an UPDATE takes): it must not conflict with the key-share locks that foreign-key
        # checks of other writers (metric rollups, orders) hold on the same members.
        member_ids = set(self.dirty_members) | {e.member_id for e in self.points}
        if member_ids:
            list(
                Member.objects.for_org(self.org)
                .select_for_update(no_key=True)
                .filter(pk__in=member_ids)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        if self.dirty:
            bulk_update_rows(Membership, self.dirty.values(), MEMBERSHIP_FIELDS)
        if self.dirty_members:
            Member.objects.bulk_update(self.dirty_members.values(), ["display_name", "name_card"])
        if self.dirty_identities:
            MemberIdentity.objects.bulk_update(self.dirty_identities.values(), ["display_name"])
        for model, rows in ((MembershipChange, self.changes), (Warning, self.warnings)):
            if rows:
                model.objects.bulk_create(rows, batch_size=500)
        blocks_and_more = (
            (Block, self.blocks),
            (CheckIn, self.checkins),
            (Invite, self.invites),
            (EntryReview, self.reviews),  # a rule already waiting for review is not asked twice
        )
        for model, rows in blocks_and_more:
            if rows:
                model.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        if self.blocks:
            revoke_access(self.org, {block.member_id for block in self.blocks})
        post_points(self.org, self.points)
        if self.actions:
            outbox.enqueue_all(self.actions)
