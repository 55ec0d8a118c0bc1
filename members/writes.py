"""What the members app's event handlers and moderation decide, collected in memory and written
with a handful of bulk statements (`MemberWrites.flush`) inside the caller's transaction."""

from __future__ import annotations

from django.utils import timezone

from core.bulk import bulk_insert_rows, bulk_update_rows
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from tenancy.rls import org_hint

from .access import personal_links_to, revoke_access
from .models import (
    Block,
    CheckIn,
    EntryReview,
    Invite,
    Leaving,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    Warning,
)
from .points import post_points
from .status import status_change

# How long the link to the leaving survey works: people who left read messages late.
LEAVING_LINK_HOURS = 7 * 24

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
        # (Leaving, community, identity, ask): ask the member why by the leaving survey
        self.leavings: list = []
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

    def leave(self, membership, community, identity, reason, ask) -> None:
        """Record a leave; with `ask`, ask the member why (the leaving survey)."""
        leaving = Leaving(
            organization=self.org,
            membership=membership,
            community=community,
            member_id=identity.member_id,
            left_at=membership.left_at,
            reason=reason,
            source=Leaving.Source.BOT if reason else Leaving.Source.NONE,
        )
        self.leavings.append((leaving, community, identity, ask))

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
                .filter(pk__in_array=member_ids)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        if self.dirty:
            bulk_update_rows(Membership, self.dirty.values(), MEMBERSHIP_FIELDS)
        if self.dirty_members:
            bulk_update_rows(Member, self.dirty_members.values(), ["display_name", "name_card"])
        if self.dirty_identities:
            bulk_update_rows(MemberIdentity, self.dirty_identities.values(), ["display_name"])
        for model, rows in ((MembershipChange, self.changes), (Warning, self.warnings)):
            bulk_insert_rows(model, rows)
        blocks_and_more = (
            (Block, self.blocks),
            (CheckIn, self.checkins),
            (Invite, self.invites),
            (EntryReview, self.reviews),  # a rule already waiting for review is not asked twice
        )
        for model, rows in blocks_and_more:
            bulk_insert_rows(model, rows, ignore_conflicts=True)
        if self.blocks:
            revoke_access(self.org, {block.member_id for block in self.blocks})
        post_points(self.org, self.points)
        if self.leavings:
            self._record_leavings()
        if self.actions:
            outbox.enqueue_all(self.actions)

    def _record_leavings(self) -> None:
        """The batch's leavings, and a private message with a personal link to the leaving
        survey (portal: bye/<leaving>/) to each member the bot gave no reason for."""
        now = timezone.now()
        for leaving, _community, _identity, ask in self.leavings:
            leaving.asked_at = now if ask else None
        rows = Leaving.objects.bulk_create([leaving for leaving, *_rest in self.leavings])
        asked = [
            (row, community, identity)
            for row, (_l, community, identity, ask) in zip(rows, self.leavings, strict=True)
            if ask
        ]
        links = personal_links_to(
            self.org,
            [(identity.member, f"bye/{row.pk}/") for row, _community, identity in asked],
            hours=LEAVING_LINK_HOURS,
        )
        unsent = []
        for (row, community, identity), link in zip(asked, links, strict=True):
            if not link:  # blocked or erased: no link, no message
                row.asked_at = None
                unsent.append(row)
                continue
            text = self.compose(
                MessageKind.LEAVING_SURVEY,
                community_id=community.pk,
                community=community.name,
                link=link,
            )
            self.action(ActionKind.NOTIFY, community, identity, text=text, leaving_id=row.pk)
        if unsent:
            Leaving.objects.bulk_update(unsent, ["asked_at"])
