"""State changes staff make by hand: warn, remove, revoke, reinstate, unblock, link identities,
adjust and redeem points, tick the onboarding checklist. Each is atomic and audited."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.models import CommunityRules, RedemptionItem
from communities.services import clean_tags
from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind
from integrations.models import ActionKind
from tenancy import audit
from tenancy.permissions import require, require_for

from . import holdout, hooks
from .jobs import write_reminders
from .models import (
    Block,
    EntryReview,
    EntryReviewStatus,
    IdentityLink,
    Leaving,
    Member,
    MemberIdentity,
    Membership,
    MembershipStatus,
    PointsEntry,
    RawEvent,
    Warning,
)
from .moderation import Moderation
from .points import post_points
from .status import status_change_now

S = MembershipStatus
PHONE_RE = re.compile(r"[0-9+\-() ]*")


def _reason(text) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"reason": [_("Give a reason.")]})
    if len(text) > 300 or "\x00" in text:
        raise ValidationError({"reason": [_("Use at most 300 characters.")]})
    return text


def _active_warnings(membership):
    return Warning.objects.for_org(membership.organization).filter(
        membership=membership, revoked_at=None, expires_at__gt=timezone.now()
    )


def _locked(actor, membership) -> Membership:
    return (
        Membership.objects.for_org(actor.organization)
        .select_for_update(of=("self",))
        .select_related("community", "identity", "member", "member__tier")
        .get(pk=membership.pk)
    )


def member_warn(*, actor, membership, reason) -> Membership:
    """Warn by hand. At the group's threshold this removes the member, as an automatic breach
    would."""
    require(actor, "member.warn", membership.community)
    reason = _reason(reason)
    with transaction.atomic():
        membership = _locked(actor, membership)
        if membership.status in (S.REMOVED, S.LEFT):
            raise Conflict(_("This member is no longer in the group."))
        moderation = Moderation.for_membership(actor, membership)
        moderation.warn(
            membership, membership.community, membership.identity, "manual", reason, timezone.now()
        )
        moderation.writes.flush()
        audit.record(actor=actor, action="member.warn", obj=membership, summary=reason)
    return membership


def member_remove(*, actor, membership, reason, block=False) -> Membership:
    require(actor, "member.remove", membership.community)
    reason = _reason(reason)
    with transaction.atomic():
        membership = _locked(actor, membership)
        if membership.status in (S.REMOVED, S.LEFT):
            raise Conflict(_("This member is no longer in the group."))
        moderation = Moderation.for_membership(actor, membership)
        moderation.remove(
            membership,
            membership.community,
            membership.identity,
            "ads" if block else "manual",
            reason,
            timezone.now(),
        )
        moderation.writes.flush()
        audit.record(actor=actor, action="member.remove", obj=membership, summary=reason)
    return membership


def warning_revoke(*, actor, warning) -> Warning:
    membership = warning.membership
    require(actor, "member.warn", membership.community)
    if warning.revoked_at is not None:
        raise Conflict(_("This warning is already revoked."))
    with transaction.atomic():
        warning.revoked_at = timezone.now()
        warning.save(update_fields=["revoked_at"])
        membership = _locked(actor, membership)
        if membership.status == S.WARNED and not _active_warnings(membership).exists():
            _change(actor, membership, S.ACTIVE, _("warning revoked"))
        audit.record(
            actor=actor, action="member.warning_revoke", obj=membership, summary=warning.detail
        )
    return warning


def member_reinstate(*, actor, membership, reason="") -> Membership:
    """Undo a removal: the member may come back; the bot is asked to invite them again."""
    require(actor, "member.remove", membership.community)
    with transaction.atomic():
        membership = _locked(actor, membership)
        if membership.status != S.REMOVED:
            raise Conflict(_("Only a removed member can be reinstated."))
        membership.left_at = None
        _change(actor, membership, S.ACTIVE, reason or _("reinstated"))
        membership.save(update_fields=["left_at"])
        _active_warnings(membership).update(revoked_at=timezone.now())
        outbox.enqueue(
            organization=actor.organization,
            kind=ActionKind.INVITE_BACK,
            community=membership.community,
            member=membership.member,
            user_external_id=membership.identity.external_user_id,
            display_name=membership.member.display_name,
        )
        audit.record(actor=actor, action="member.reinstate", obj=membership, summary=reason)
    return membership


def block_lift(*, actor, block) -> Block:
    require(actor, "member.remove")
    if block.lifted_at is not None:
        raise Conflict(_("This block is already lifted."))
    with transaction.atomic():
        block.lifted_at = timezone.now()
        block.save(update_fields=["lifted_at"])
        audit.record(actor=actor, action="member.unblock", obj=block.member)
    return block


REVIEW_DECISIONS = ("approve", "remove")


def entry_review_resolve(*, actor, review, decision, note="") -> EntryReview:
    """Staff decide on someone who joined without meeting the group's entry rules: "approve"
    (they stay; the membership loses the rule's flag) or "remove" (politely, as the group's
    "remove" choice would have). A member already gone closes the review either way."""
    require(actor, "member.remove", review.community)
    if decision not in REVIEW_DECISIONS:
        raise ValidationError(_("Choose whether the member stays or is removed."))
    note = (note or "").strip()
    if len(note) > 300 or "\x00" in note:
        raise ValidationError({"note": [_("Use at most 300 characters.")]})
    with transaction.atomic():
        review = (
            EntryReview.objects.for_org(actor.organization).select_for_update().get(pk=review.pk)
        )
        if review.status != EntryReviewStatus.OPEN:
            raise Conflict(_("This review is already resolved."))
        membership = _locked(actor, review.membership)
        if membership.status in (S.REMOVED, S.LEFT):
            review.status = EntryReviewStatus.CLOSED
        elif decision == "approve":
            review.status = EntryReviewStatus.APPROVED
            membership.flags = [f for f in membership.flags if f != review.rule]
            membership.save(update_fields=["flags"])
        else:
            review.status = EntryReviewStatus.REMOVED
            moderation = Moderation.for_membership(actor, membership)
            moderation.remove(
                membership,
                membership.community,
                membership.identity,
                review.reason,
                review.detail or review.rule_label,
                timezone.now(),
                announce_kind=MessageKind.ENTRY_REMOVE_ANNOUNCE,
            )
            moderation.writes.flush()
        review.resolved_at, review.note = timezone.now(), note
        review.resolved_by = str(actor.label)[:200]
        review.save(update_fields=["status", "resolved_at", "resolved_by", "note"])
        audit.record(
            actor=actor,
            action=f"member.entry_review_{review.status}",
            obj=membership,
            summary=f"{review.rule_label} · {review.get_status_display()}",
        )
    return review


def _change(actor, membership, status, reason) -> None:
    status_change_now(membership, status, reason=reason, actor_label=actor.label)


def onboarding_mark(*, actor, membership, step) -> Membership:
    """Tick an onboarding step by hand: "introduced" or "coupon"."""
    require(actor, "member.edit", membership.community)
    fields = {"introduced": "introduced_at", "coupon": "coupon_issued_at"}
    if step not in fields:
        raise ValidationError(_("Unknown onboarding step."))
    with transaction.atomic():
        setattr(membership, fields[step], timezone.now())
        membership.save(update_fields=[fields[step]])
        audit.record(actor=actor, action=f"member.onboarding_{step}", obj=membership)
    return membership


def member_update(*, actor, member, tags=None, notes=None, phone=None) -> Member:
    require(actor, "member.edit")
    changes = {}
    if phone is not None:
        phone = phone.strip()
        if len(phone) > 32 or not PHONE_RE.fullmatch(phone):
            raise ValidationError({"phone": [_("Enter a phone number: digits, spaces, + - ( ).")]})
        changes["phone"] = phone
    if tags is not None:
        changes["tags"] = clean_tags(tags)
    if notes is not None:
        if len(notes) > 5000 or "\x00" in notes:
            raise ValidationError({"notes": [_("Use at most 5000 characters.")]})
        changes["notes"] = notes
    with transaction.atomic():
        for key, value in changes.items():
            setattr(member, key, value)
        member.save(update_fields=list(changes) or None)
        audit.record(
            actor=actor,
            action="member.update",
            obj=member,
            summary=audit.field_labels(Member, changes),
        )
    return member


# --- identities -------------------------------------------------------------------------------


def identity_link(*, actor, identity, to_member) -> Member:
    """Move an identity (and its memberships, orders stay with their member) to another member:
    the same person on two platforms."""
    require(actor, "member.edit")
    if identity.member_id == to_member.pk:
        raise Conflict(_("This identity already belongs to that member."))
    if to_member.organization_id != actor.organization.pk:
        raise ValidationError(_("That object belongs to another organization."))
    return _move_identity(actor, identity, to_member, "link")


def identity_unlink(*, actor, identity) -> Member:
    """Give an identity its own member again (history kept)."""
    require(actor, "member.edit")
    org = actor.organization
    if MemberIdentity.objects.for_org(org).filter(member_id=identity.member_id).count() < 2:
        raise Conflict(_("A member's only identity cannot be unlinked."))
    with transaction.atomic():
        new_member = Member.objects.create(
            organization=org, display_name=identity.display_name or identity.external_user_id
        )
        return _move_identity(actor, identity, new_member, "unlink")


def _move_identity(actor, identity, to_member, action) -> Member:
    org = actor.organization
    with transaction.atomic():
        from_member = identity.member
        IdentityLink.objects.create(
            organization=org,
            identity=identity,
            from_member=from_member,
            to_member=to_member,
            action=action,
            actor_label=str(actor.label)[:200],
        )
        MemberIdentity.objects.for_org(org).filter(pk=identity.pk).update(member=to_member)
        memberships = Membership.objects.for_org(org).filter(identity=identity)
        memberships.update(member=to_member)
        Leaving.objects.for_org(org).filter(membership__identity=identity).update(member=to_member)
        identity.member = to_member
        if not MemberIdentity.objects.for_org(org).filter(member=from_member).exists():
            _merge(actor, from_member, to_member)
        audit.record(
            actor=actor,
            action=f"member.identity_{action}",
            obj=to_member,
            summary=f"{identity} : #{from_member.pk} → #{to_member.pk}",
        )
    return to_member


def _merge(actor, from_member, to_member) -> None:
    """`from_member` has no identity left: it is the same person as `to_member`. Orders (and
    whatever else other apps own, through `hooks.member_merged`) and points move over (the
    ledger records the transfer); the old member is kept, merged."""
    org = actor.organization
    hooks.member_merged(org=org, from_member=from_member, to_member=to_member)
    RawEvent.objects.for_org(org).filter(member=from_member).update(member=to_member)
    locked = Member.objects.for_org(org).select_for_update(no_key=True).get(pk=from_member.pk)
    if locked.points_balance:
        balance = locked.points_balance
        _ledger(actor, locked, -balance, "merge_out", f"→ #{to_member.pk}")
        _ledger(actor, to_member, balance, "merge_in", f"← #{from_member.pk}")
    Member.objects.for_org(org).filter(pk=from_member.pk).update(merged_into=to_member)


# --- points --------------------------------------------------------------------------------


def points_adjust(*, actor, member, delta: int, reason) -> PointsEntry:
    require(actor, "member.points.adjust")
    reason = _reason(reason)
    if not isinstance(delta, int) or delta == 0 or abs(delta) > 1_000_000:
        raise ValidationError({"delta": [_("Give a whole number of points, not zero.")]})
    with transaction.atomic():
        locked = (
            Member.objects.for_org(actor.organization)
            .select_for_update(no_key=True)
            .get(pk=member.pk)
        )
        if locked.points_balance + delta < 0:
            raise Conflict({"delta": [_("The balance cannot go below zero.")]})
        entry = _ledger(actor, locked, delta, "adjust", reason)
        audit.record(
            actor=actor, action="points.adjust", obj=locked, summary=f"{delta:+d} {reason}"
        )
    return entry


def points_redeem(*, actor, member, item: RedemptionItem) -> PointsEntry:
    """Exchange points for a reward: staff for a member, or the member on their own page.
    Concurrent redemptions never overdraw the balance or the stock: the member row is locked
    and the stock decremented with a guarded UPDATE. What the reward issues (a coupon) is
    issued in the same transaction (`hooks.points_redeemed`)."""
    require_for(actor, "member.points.adjust", member)
    if item.organization_id != member.organization_id:
        raise Conflict(_("This reward is paused."))
    if not item.is_active:
        raise Conflict(_("This reward is paused."))
    with transaction.atomic():
        locked = (
            Member.objects.for_org(actor.organization)
            .select_for_update(no_key=True)
            .get(pk=member.pk)
        )
        if locked.points_balance < item.points_cost:
            raise Conflict(_("Not enough points."))
        if item.stock is not None:
            taken = (
                RedemptionItem.objects.for_org(actor.organization)
                .filter(pk=item.pk, stock__gte=1)
                .update(stock=F("stock") - 1)
            )
            if not taken:
                raise Conflict(_("This reward is out of stock."))
        entry = _ledger(actor, locked, -item.points_cost, "redeem", item.name)
        hooks.points_redeemed(org=actor.organization, actor=actor, member=locked, item=item)
        audit.record(actor=actor, action="points.redeem", obj=locked, summary=item.name)
    return entry


def _ledger(actor, member, delta, reason, detail) -> PointsEntry:
    entry = PointsEntry(
        organization=actor.organization,
        member=member,
        delta=delta,
        reason=reason,
        detail=detail[:200],
        day=timezone.now().astimezone(actor.organization.tzinfo).date(),
        actor_label=str(actor.label)[:200],
    )
    post_points(actor.organization, [entry], with_ids=True)
    return entry


def remind_now(*, actor, memberships) -> int:
    """Send a reminder to chosen dormant members now (a staff decision: no cooldown), still
    within each group's maximum; members held out of the wake-up (members/holdout.py) are
    skipped while they are measured."""
    org = actor.organization
    memberships = list(memberships)
    for membership in memberships:
        require(actor, "member.warn", membership.community)
    rules = {
        r.community_id: r
        for r in CommunityRules.objects.for_org(org).filter(
            community_id__in={m.community_id for m in memberships}
        )
    }
    # the wake-up's control group stays unreminded while it is measured (members/holdout.py)
    held = set(
        Membership.objects.for_org(org)
        .filter(pk__in=[m.pk for m in memberships])
        .filter(holdout.held_out(org, timezone.now()))
        .values_list("pk", flat=True)
    )
    due = [
        m
        for m in memberships
        if m.status == S.DORMANT
        and m.community_id in rules
        and m.reminders_sent < rules[m.community_id].max_reminders
        and m.pk not in held
    ]
    with transaction.atomic():
        write_reminders(org, rules, [m.pk for m in due], timezone.now())
        audit.record(
            actor=actor,
            action="member.remind",
            summary=ngettext("%(n)s reminder", "%(n)s reminders", len(due)) % {"n": len(due)},
        )
    return len(due)


def identities_seen(org, names: dict) -> dict:
    """{(platform, external user id): MemberIdentity with .member} for everyone events name
    (`names`: that key → display name), creating a member for each person seen the first time."""
    found = _identities_by_key(org, names.keys())
    missing = sorted(names.keys() - found.keys())
    if missing:
        members = Member.objects.bulk_create(
            [Member(organization=org, display_name=names[key][:120]) for key in missing]
        )
        MemberIdentity.objects.bulk_create(
            [
                MemberIdentity(
                    organization=org,
                    member=member,
                    platform=platform,
                    external_user_id=ext,
                    display_name=names[(platform, ext)][:120],
                )
                for member, (platform, ext) in zip(members, missing, strict=True)
            ],
            ignore_conflicts=True,  # a concurrent batch created it first: its member wins
        )
        found = _identities_by_key(org, names.keys())
    return found


def _identities_by_key(org, keys) -> dict:
    externals = {ext for _platform, ext in keys}
    rows = (
        MemberIdentity.objects.for_org(org)
        .filter(external_user_id__in_array=externals)
        .select_related("member", "member__tier")
    )
    return {
        (i.platform, i.external_user_id): i
        for i in rows
        if (i.platform, i.external_user_id) in keys
    }
