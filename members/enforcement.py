"""Applying a batch of events in memory: onboarding, rule enforcement, auto-replies, check-ins,
invites, orders and points. Nothing here queries the database per event; `flush` writes the
outcome with bulk statements (the loading is done by `members.ingestion`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from urllib.parse import urlparse

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from campaigns.models import Order
from communities.rules import compile_name_card, render_text
from integrations import outbox
from integrations.models import Action, ActionKind
from tenancy.bulk import bulk_update_rows

from .models import (
    Block,
    CheckIn,
    Invite,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    MembershipStatus,
    PointsEntry,
    Warning,
)

S = MembershipStatus
NAME_CARD_GRACE = timedelta(days=1)
REACTIVATION_WINDOW = timedelta(days=7)
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


def rule_params(rules, kind):
    """The params of the group's rule of this kind, or None when it has none."""
    if rules is None:
        return None
    for rule in rules.rules:
        if rule["kind"] == kind:
            return rule.get("params", {})
    return None


def ad_breach(params, event) -> str | None:
    """Why this message is an ad under the group's no_ads rule, or None."""
    allowed = set(params.get("allowed_domains", []))
    if event.has_link or event.links:
        domains = {
            (urlparse(link if "//" in link else f"//{link}").hostname or "") for link in event.links
        }
        off_list = [d for d in domains if not any(d == a or d.endswith("." + a) for a in allowed)]
        if off_list or not event.links:
            return _("link not on the allow-list: %(domains)s") % {
                "domains": ", ".join(sorted(off_list)) or _("unknown")
            }
    text = (event.text or "").lower()
    for keyword in params.get("keywords", []):
        if keyword.lower() in text:
            return _("ad keyword “%(keyword)s”") % {"keyword": keyword}
    return None


class BatchProcessor:
    def __init__(
        self,
        *,
        organization,
        actor,
        communities,
        identities,
        memberships,
        newly_created,
        rules,
        points_rules,
        active_warnings,
        blocked,
        groups_by_kind,
        last_checkins,
        orders,
        order_counts,
        points_today,
    ):
        self.org = organization
        self.actor_label = str(actor.label)
        self.communities = communities
        self.identities = identities
        self.memberships = memberships
        self.newly_created = newly_created
        self.rules = rules
        self.points_rules = points_rules
        self.active_warnings = defaultdict(int, active_warnings)
        self.blocked = set(blocked)
        self.groups_by_kind = groups_by_kind
        self.last_checkins = last_checkins
        self.orders = orders
        self.order_counts = defaultdict(int, order_counts)
        self.points_today = defaultdict(int, points_today)
        self.dirty: dict = {}
        self.changes: list = []
        self.actions: list = []
        self.warnings: list = []
        self.blocks: list = []
        self.checkins: list = []
        self.invites: list = []
        self.new_orders: list = []
        self.dirty_orders: dict = {}
        self.points: list = []
        self.dirty_members: dict = {}
        self.dirty_identities: dict = {}

    # --- dispatch ----------------------------------------------------------------------------

    def apply(self, event) -> None:
        tag = type(event).__struct_config__.tag
        community = self.communities[(event.platform, event.community)]
        identity = self.identities[(event.platform, event.user)]
        membership = self.memberships.get((community.pk, identity.pk))
        self._remember_names(identity, event)
        getattr(self, "_on_" + tag.replace(".", "_"))(event, community, identity, membership)

    def _remember_names(self, identity, event) -> None:
        member = identity.member
        if member.erased_at is not None:  # erased on request: names are not collected again
            return
        if event.display_name and event.display_name != identity.display_name:
            identity.display_name = event.display_name
            self.dirty_identities[identity.pk] = identity
            if not member.display_name or member.display_name == member.name_card:
                member.display_name = event.display_name
                self.dirty_members[member.pk] = member
        if event.name_card and event.name_card != member.name_card:
            member.name_card = event.name_card
            self.dirty_members[member.pk] = member

    # --- helpers -----------------------------------------------------------------------------

    def _touch(self, membership) -> None:
        self.dirty[membership.pk] = membership

    def _set_status(self, membership, status, at, reason="") -> None:
        if (
            membership.status == status
            and (membership.community_id, membership.identity_id) not in self.newly_created
        ):
            return
        from_status = membership.status
        if (membership.community_id, membership.identity_id) in self.newly_created:
            from_status = ""
            self.newly_created.discard((membership.community_id, membership.identity_id))
        membership.status = status
        self.changes.append(
            MembershipChange(
                organization=self.org,
                membership=membership,
                from_status=from_status,
                to_status=status,
                reason=reason[:300],
                actor_label=self.actor_label[:200],
                created_at=at,
            )
        )
        self._touch(membership)

    def _flag(self, membership, flag) -> None:
        if flag not in membership.flags:
            membership.flags = [*membership.flags, flag]
            self._touch(membership)

    def _action(self, kind, community, identity, **payload) -> None:
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

    def _day(self, at):
        return at.astimezone(self.org.tzinfo).date()

    def _earn(self, member, reason, points, at, detail="", cap=None) -> int:
        """Credit points, within the daily cap for this reason. Returns what was credited."""
        if points <= 0:
            return 0
        day = self._day(at)
        if cap is not None:
            points = min(points, max(0, cap - self.points_today[(member.pk, reason, day)]))
            if points <= 0:
                return 0
        self.points_today[(member.pk, reason, day)] += points
        self.points.append(
            PointsEntry(
                organization=self.org,
                member=member,
                delta=points,
                reason=reason,
                detail=detail[:200],
                day=day,
                created_at=at,
                actor_label=self.actor_label[:200],
            )
        )
        return points

    # --- joins and leaves ----------------------------------------------------------------------

    def _on_member_joined(self, event, community, identity, membership) -> None:
        at = event.occurred_at
        fresh = (community.pk, identity.pk) in self.newly_created
        rejoin = membership.status in (S.LEFT, S.REMOVED)
        if not (fresh or rejoin):
            return  # already in the group: a repeated join changes nothing
        membership.joined_at = at
        membership.left_at = None
        membership.churn_reason = ""
        membership.welcomed_at = membership.introduced_at = None
        membership.flags = []
        member = identity.member
        rules = self.rules.get(community.pk)
        if member.pk in self.blocked:
            self._flag(membership, "blocked")
            if self.org.remove_blocked_on_join:
                self._set_status(membership, S.JOINED, at, _("rejoined") if rejoin else "")
                self._remove(membership, community, identity, "blocked", _("on the block list"), at)
                return
        self._set_status(membership, S.ONBOARDING, at, _("rejoined") if rejoin else _("joined"))
        membership.welcomed_at = at
        membership.name_card_ok = self._name_card_ok(rules, member.name_card)
        with override(self.org.default_language):
            text = (rules.welcome_message if rules else "") or _("Welcome to %(name)s!") % {
                "name": community.name
            }
            rules_text = render_text(rules, self.org.default_language) if rules else ""
        self._action(ActionKind.WELCOME, community, identity, text=text, rules_text=rules_text)
        kinds = self.groups_by_kind.setdefault(member.pk, defaultdict(set))
        kinds[community.kind].add(community.pk)
        limit = (self.org.group_limits or {}).get(community.kind)
        if limit is not None and len(kinds[community.kind]) > int(limit):
            self._flag(membership, f"too_many_groups:{community.kind}")
        required = community.required_tier
        if required is not None and (member.tier is None or member.tier.rank < required.rank):
            self._flag(membership, "below_tier")
        if event.invited_by and event.invited_by != event.user:
            inviter = self.identities[(event.platform, event.invited_by)].member
            if inviter.pk != member.pk:
                self.invites.append(
                    Invite(
                        organization=self.org,
                        community=community,
                        inviter=inviter,
                        invitee=member,
                        invited_at=at,
                    )
                )
        self._touch(membership)

    def _on_member_left(self, event, community, identity, membership) -> None:
        if membership is None or membership.status in (S.LEFT, S.REMOVED):
            return
        membership.left_at = event.occurred_at
        membership.churn_reason = event.reason
        self._set_status(membership, S.LEFT, event.occurred_at, event.reason)
        kinds = self.groups_by_kind.get(identity.member_id)
        if kinds:
            kinds[community.kind].discard(community.pk)

    # --- messages ----------------------------------------------------------------------------

    def _on_message_posted(self, event, community, identity, membership) -> None:
        at = event.occurred_at
        if (community.pk, identity.pk) in self.newly_created:
            self._set_status(membership, S.ACTIVE, at, _("first seen posting"))
        if membership.status in (S.LEFT, S.REMOVED):
            return
        membership.message_count += 1
        membership.last_active_at = max(filter(None, [membership.last_active_at, at]))
        rules = self.rules.get(community.pk)
        member = identity.member
        if event.name_card:
            membership.name_card_ok = self._name_card_ok(rules, event.name_card)
        if membership.status == S.DORMANT:
            if (
                membership.last_reminded_at
                and at - membership.last_reminded_at <= REACTIVATION_WINDOW
            ):
                membership.reactivated_at = at
            membership.dormant_since = None
            self._set_status(membership, S.ACTIVE, at, _("active again"))
        elif membership.status in (S.JOINED, S.ONBOARDING):
            membership.introduced_at = membership.introduced_at or at
            self._set_status(membership, S.ACTIVE, at, _("first message"))
        elif membership.status == S.WARNED and not self.active_warnings[membership.pk]:
            self._set_status(membership, S.ACTIVE, at, _("warnings expired"))
        self._touch(membership)
        breach = self._breach(event, rules, membership, at)
        if breach:
            self._warn(membership, community, identity, breach[0], breach[1], at)
        self._auto_reply(event, rules, community, identity)
        if membership.status not in (S.REMOVED,):
            rules_p = self.points_rules
            self._earn(member, "message", rules_p.per_message, at, cap=rules_p.message_daily_cap)

    def _name_card_ok(self, rules, name_card) -> bool:
        params = rule_params(rules, "name_card")
        if params is None:
            return True
        return compile_name_card(params["format"]).matches(name_card)

    def _breach(self, event, rules, membership, at):
        """(reason, detail) of the first rule this message breaks, or None."""
        params = rule_params(rules, "no_ads")
        if params is not None:
            why = ad_breach(params, event)
            if why:
                return "ads", why
        params = rule_params(rules, "no_flood")
        if params is not None:
            window = timedelta(seconds=params["window_seconds"])
            start = membership.flood_window_start
            if start is None or at - start > window:
                membership.flood_window_start, membership.flood_count = at, 1
            else:
                membership.flood_count += 1
                if membership.flood_count > params["max_consecutive"]:
                    membership.flood_window_start, membership.flood_count = at, 0
                    return "flood", _("more than %(n)s messages within %(s)s seconds") % {
                        "n": params["max_consecutive"],
                        "s": params["window_seconds"],
                    }
        params = rule_params(rules, "name_card")
        if (
            params is not None
            and event.name_card
            and not membership.name_card_ok
            and at - membership.joined_at > NAME_CARD_GRACE
        ):
            card = compile_name_card(params["format"])
            return "name_card", _("name card “%(card)s” does not follow %(format)s") % {
                "card": event.name_card,
                "format": card.pattern,
            }
        return None

    def _auto_reply(self, event, rules, community, identity) -> None:
        text = (event.text or "").strip()
        if not text or rules is None:
            return
        for rule in rules.auto_replies:
            if text == rule.get("keyword"):
                self._action(
                    ActionKind.REPLY,
                    community,
                    identity,
                    text=rule.get("reply", ""),
                    reply_to=event.id,
                )
                return

    # --- enforcement -------------------------------------------------------------------------

    def _warn(self, membership, community, identity, reason, detail, at) -> None:
        rules = self.rules.get(community.pk)
        threshold = rules.warnings_before_removal if rules else 1
        if self.active_warnings[membership.pk] >= threshold:
            self._remove(membership, community, identity, reason, detail, at)
            return
        expiry = timedelta(days=rules.warning_expiry_days if rules else 30)
        self.warnings.append(
            Warning(
                organization=self.org,
                membership=membership,
                reason=reason,
                detail=detail[:300],
                created_at=at,
                expires_at=at + expiry,
                actor_label=self.actor_label[:200],
            )
        )
        self.active_warnings[membership.pk] += 1
        count = self.active_warnings[membership.pk]
        self._set_status(membership, S.WARNED, at, detail)
        with override(self.org.default_language):
            notice = _(
                "@%(name)s, please follow the group rules: %(detail)s. Warning %(n)s of %(max)s."
            ) % {
                "name": identity.display_name or identity.member.display_name,
                "detail": detail,
                "n": count,
                "max": threshold,
            }
        payload = {"text": notice, "reason": reason, "warning": count, "threshold": threshold}
        if rules and rules.mute_before_removal and count >= threshold:
            payload["mute_hours"] = 24
        self._action(ActionKind.WARN, community, identity, **payload)

    def _remove(self, membership, community, identity, reason, detail, at) -> None:
        rules = self.rules.get(community.pk)
        membership.left_at = at
        self._set_status(membership, S.REMOVED, at, f"{reason}: {detail}")
        announce = ""
        if rules is None or rules.announce_removal:
            with override(self.org.default_language):
                announce = _("%(name)s was removed for breaking the group rules (%(detail)s).") % {
                    "name": identity.display_name or identity.member.display_name,
                    "detail": detail,
                }
        self._action(ActionKind.REMOVE, community, identity, reason=reason, announce=announce)
        member = identity.member
        if reason == "ads" and member.pk not in self.blocked:
            self.blocked.add(member.pk)
            self.blocks.append(
                Block(
                    organization=self.org,
                    member=member,
                    reason=detail[:300],
                    created_at=at,
                    actor_label=self.actor_label[:200],
                )
            )

    # --- engagement --------------------------------------------------------------------------

    def _on_member_checked_in(self, event, community, identity, membership) -> None:
        at = event.occurred_at
        if (community.pk, identity.pk) in self.newly_created:
            self._set_status(membership, S.ACTIVE, at, _("first seen checking in"))
        if membership.status in (S.LEFT, S.REMOVED):
            return
        day = self._day(at)
        last = self.last_checkins.get(membership.pk)
        if last is not None and last[0] >= day:
            return  # once a day
        streak = last[1] + 1 if last is not None and last[0] == day - timedelta(days=1) else 1
        self.last_checkins[membership.pk] = (day, streak)
        self.checkins.append(
            CheckIn(
                organization=self.org,
                membership=membership,
                member=identity.member,
                day=day,
                streak=streak,
                created_at=at,
            )
        )
        membership.last_active_at = max(filter(None, [membership.last_active_at, at]))
        self._touch(membership)
        rules = self.points_rules
        self._earn(identity.member, "checkin", rules.checkin, at)
        if streak % rules.streak_days == 0:
            self._earn(
                identity.member,
                "streak",
                rules.streak_bonus,
                at,
                detail=_("%(n)s days in a row") % {"n": streak},
            )

    def _on_content_shared(self, event, community, identity, membership) -> None:
        at = event.occurred_at
        if membership.status in (S.LEFT, S.REMOVED):
            return
        membership.last_active_at = max(filter(None, [membership.last_active_at, at]))
        self._touch(membership)
        rules = self.points_rules
        self._earn(
            identity.member,
            "share",
            rules.share,
            at,
            detail=event.url,
            cap=rules.share * rules.share_daily_cap,
        )

    def _on_member_invited(self, event, community, identity, membership) -> None:
        invitee = self.identities[(event.platform, event.invitee)].member
        if invitee.pk != identity.member_id:
            self.invites.append(
                Invite(
                    organization=self.org,
                    community=community,
                    inviter=identity.member,
                    invitee=invitee,
                    invited_at=event.occurred_at,
                )
            )

    # --- orders ------------------------------------------------------------------------------

    def _on_order_placed(self, event, community, identity, membership) -> None:
        if event.order_id in self.orders:
            return  # the same order reported again under another event id
        member = identity.member
        repeat = self.order_counts[member.pk] > 0
        rules = self.points_rules
        multiplier = rules.repurchase_multiplier if repeat else Decimal(1)
        if member.tier is not None:
            multiplier *= member.tier.points_multiplier
        points = int((event.amount * rules.per_yuan * multiplier).to_integral_value(ROUND_FLOOR))
        order = Order(
            organization=self.org,
            external_order_id=event.order_id,
            member=member,
            community=community,
            amount=event.amount,
            items=[
                {"name": i.name, "sku": i.sku, "quantity": i.quantity, "price": str(i.price)}
                for i in event.items
            ],
            placed_at=event.occurred_at,
        )
        order.points_awarded = self._earn(
            member,
            "repurchase" if repeat else "purchase",
            points,
            event.occurred_at,
            detail=event.order_id,
        )
        self.orders[event.order_id] = order
        self.new_orders.append(order)
        self.order_counts[member.pk] += 1
        if membership is not None and membership.status not in (S.LEFT, S.REMOVED):
            membership.last_active_at = max(
                filter(None, [membership.last_active_at, event.occurred_at])
            )
            self._touch(membership)

    def _on_order_refunded(self, event, community, identity, membership) -> None:
        order = self.orders.get(event.order_id)
        if order is None or order.status == "refunded":
            return
        order.status = "refunded"
        order.refunded_at = event.occurred_at
        if order.pk:
            self.dirty_orders[order.pk] = order
        self.order_counts[order.member_id] -= 1
        if order.points_awarded:
            self.points.append(
                PointsEntry(
                    organization=self.org,
                    member_id=order.member_id,
                    delta=-order.points_awarded,
                    reason="refund",
                    detail=event.order_id,
                    day=self._day(event.occurred_at),
                    created_at=event.occurred_at,
                    actor_label=self.actor_label[:200],
                )
            )

    def _on_order_shipped(self, event, community, identity, membership) -> None:
        pass  # member care records shipping and delivery (care.ingestion)

    _on_order_delivered = _on_order_shipped

    # --- writing -----------------------------------------------------------------------------

    def flush(self) -> None:
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
        for model, rows in (
            (MembershipChange, self.changes),
            (Warning, self.warnings),
        ):
            if rows:
                model.objects.bulk_create(rows, batch_size=500)
        for model, rows in ((Block, self.blocks), (CheckIn, self.checkins), (Invite, self.invites)):
            if rows:
                model.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        if self.new_orders:
            Order.objects.bulk_create(self.new_orders, batch_size=500, ignore_conflicts=True)
        if self.dirty_orders:
            Order.objects.bulk_update(self.dirty_orders.values(), ["status", "refunded_at"])
        self._refunds_of_new_orders()
        post_points(self.org, self.points)
        if self.actions:
            Action.objects.bulk_create(self.actions, batch_size=500)

    def _refunds_of_new_orders(self) -> None:
        refunded = [o for o in self.new_orders if o.status == "refunded"]
        if refunded:
            ids = {o.external_order_id for o in refunded}
            Order.objects.for_org(self.org).filter(external_order_id__in=ids).update(
                status="refunded", refunded_at=timezone.now()
            )


def post_points(org, entries) -> None:
    """Write ledger entries and move the cached balances, one locking query for all members.
    A debit never takes a balance below zero: it is cut to what the member has."""
    if not entries:
        return
    member_ids = {e.member_id for e in entries}
    members = {
        m.pk: m
        for m in Member.objects.for_org(org)
        .select_for_update(no_key=True)
        .filter(pk__in=member_ids)
        .order_by("pk")
    }
    kept = []
    for entry in entries:
        member = members[entry.member_id]
        if entry.delta < 0:
            entry.delta = -min(-entry.delta, member.points_balance)
            if entry.delta == 0:
                continue
        member.points_balance += entry.delta
        kept.append(entry)
    PointsEntry.objects.bulk_create(kept, batch_size=500)
    Member.objects.bulk_update(members.values(), ["points_balance"])
