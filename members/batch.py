"""The event types the members app owns, applied to a batch in memory: joins and leaves
(onboarding), messages (rules, keyword replies), check-ins, shares, invites, and the names
people go by. The loading is a constant number of queries per batch; nothing here queries per
event; `flush` writes the outcome with bulk statements. Called by the ingestion edge."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    CommunityKind,
    CommunityRules,
    CommunityStatus,
    EntryRuleAction,
    PointsRules,
)
from communities.posters import poster_url
from communities.rule_checks import first_breach, keyword_reply, name_card_ok
from communities.rules import render_text
from integrations.composer import MessageKind
from integrations.event_schema import EventBatch
from integrations.models import ActionKind

from .access import LINK_KEYWORDS, POSTER_KEYWORDS, personal_link
from .entry_rules import unmet_entry_rules
from .models import (
    PRESENT_STATUSES,
    Block,
    CheckIn,
    EntryReview,
    Invite,
    Membership,
    MembershipStatus,
    PointsEntry,
    Warning,
)
from .moderation import Moderation
from .writes import MemberWrites

S = MembershipStatus
REACTIVATION_WINDOW = timedelta(days=7)
# Events that show a person is in the group: the first one creates the membership.
PRESENCE_TYPES = {
    "member.joined",
    "message.posted",
    "member.checked_in",
    "content.shared",
    "member.invited",
}


class MemberEvents:
    def __init__(
        self,
        batch: EventBatch,
        *,
        memberships,
        newly_created,
        rules,
        points_rules,
        active_warnings,
        blocked,
        groups_by_kind,
        last_checkins,
        points_today,
        ads_groups=(),
    ):
        self.batch = batch
        self.org = batch.organization
        self.memberships = memberships
        self.writes = MemberWrites(self.org, batch.actor.label, newly_created)
        self.rules = rules
        self.moderation = Moderation(
            self.writes, rules=rules, active_warnings=active_warnings, blocked=blocked
        )
        self.points_rules = points_rules
        self.abuse_words = self.org.abuse_words or []
        self.ads_groups = ads_groups  # [(id, name)] of the groups where ads are welcome
        self.groups_by_kind = groups_by_kind
        self.last_checkins = last_checkins
        self.points_today = defaultdict(int, points_today)

    def handlers(self) -> dict[str, Callable]:
        """{event type: handler} for the types this app applies. Every type, orders included,
        passes here first: the names people go by are kept up to date from any event."""
        return {
            "member.joined": self.on_member_joined,
            "member.left": self.on_member_left,
            "message.posted": self.on_message_posted,
            "member.checked_in": self.on_member_checked_in,
            "member.opened_app": self.on_member_opened_app,
            "content.shared": self.on_content_shared,
            "member.invited": self.on_member_invited,
            "order.placed": self.remember_names,
            "order.refunded": self.remember_names,
            "order.shipped": self.remember_names,
            "order.delivered": self.remember_names,
        }

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, batch: EventBatch) -> MemberEvents:
        """Create the memberships this batch's events show, lock the ones it touches and load
        what the handlers need, in a constant number of queries."""
        org, events = batch.organization, batch.events
        identity_by_pk = {i.pk: i for i in batch.identities.values()}
        earliest: dict = {}
        for e in events:
            if type(e).__struct_config__.tag in PRESENCE_TYPES:
                pair = (batch.community(e).pk, batch.identity(e).pk)
                earliest.setdefault(pair, e.occurred_at)  # events are in time order
        community_ids = {c.pk for c in batch.communities.values()}
        identity_ids = set(identity_by_pk)
        memberships = _memberships(org, community_ids, identity_ids)
        first_time = {
            pair: Membership(
                organization=org,
                community_id=pair[0],
                identity_id=pair[1],
                member_id=identity_by_pk[pair[1]].member_id,
                status="active",
                joined_at=joined_at,
            )
            for pair, joined_at in earliest.items()
            if pair not in memberships
        }
        member_ids = {i.member_id for i in batch.identities.values()}
        groups_by_kind = _groups_by_kind(org, member_ids)  # before this batch's memberships
        if first_time:
            Membership.objects.bulk_create(first_time.values(), ignore_conflicts=True)
            memberships = _memberships(org, community_ids, identity_ids)
        membership_ids = [m.pk for m in memberships.values()]
        return cls(
            batch,
            memberships=memberships,
            newly_created=set(first_time),
            rules={
                r.community_id: r
                for r in CommunityRules.objects.for_org(org).filter(community_id__in=community_ids)
            },
            points_rules=PointsRules.objects.for_org(org).first() or PointsRules(organization=org),
            active_warnings=_active_warning_counts(org, membership_ids),
            blocked=Block.objects.for_org(org)
            .filter(member_id__in_array=member_ids, lifted_at=None)
            .values_list("member_id", flat=True),
            groups_by_kind=groups_by_kind,
            last_checkins=_last_checkins(org, membership_ids, events),
            points_today=_points_today(org, member_ids, events),
            ads_groups=list(
                Community.objects.for_org(org)
                .filter(kind=CommunityKind.ADS, status=CommunityStatus.ACTIVE)
                .order_by("pk")
                .values_list("pk", "name")
            ),
        )

    # --- shared with other apps' handlers ---------------------------------------------------

    def membership(self, event):
        """The membership the event is about, or None when the person is not in that group."""
        community, identity = self.batch.community(event), self.batch.identity(event)
        return self.memberships.get((community.pk, identity.pk))

    def touch_active(self, membership, at) -> None:
        """The member did something in the group at `at` (unless they are no longer in it)."""
        if membership is None or membership.status in (S.LEFT, S.REMOVED):
            return
        membership.last_active_at = max(filter(None, [membership.last_active_at, at]))
        self.writes.touch(membership)

    def earn(self, member, reason, points, at, detail="", cap=None) -> int:
        """Credit points, within the daily cap for this reason. Returns what was credited."""
        if points <= 0:
            return 0
        day = self._day(at)
        if cap is not None:
            points = min(points, max(0, cap - self.points_today[(member.pk, reason, day)]))
            if points <= 0:
                return 0
        self.points_today[(member.pk, reason, day)] += points
        self.writes.points.append(self._entry(member.pk, points, reason, detail, at))
        return points

    def debit(self, member_id, points, reason, detail, at) -> None:
        self.writes.points.append(self._entry(member_id, -points, reason, detail, at))

    def _entry(self, member_id, delta, reason, detail, at) -> PointsEntry:
        return PointsEntry(
            organization=self.org,
            member_id=member_id,
            delta=delta,
            reason=reason,
            detail=detail[:200],
            day=self._day(at),
            created_at=at,
            actor_label=self.writes.actor_label[:200],
        )

    def _day(self, at):
        return at.astimezone(self.org.tzinfo).date()

    # --- names -----------------------------------------------------------------------------

    def remember_names(self, event) -> None:
        identity = self.batch.identity(event)
        member = identity.member
        if member.erased_at is not None:  # erased on request: names are not collected again
            return
        if event.display_name and event.display_name != identity.display_name:
            identity.display_name = event.display_name
            self.writes.dirty_identities[identity.pk] = identity
            if not member.display_name or member.display_name == member.name_card:
                member.display_name = event.display_name
                self.writes.dirty_members[member.pk] = member
        if event.name_card and event.name_card != member.name_card:
            member.name_card = event.name_card
            self.writes.dirty_members[member.pk] = member

    # --- joins and leaves ------------------------------------------------------------------

    def on_member_joined(self, event) -> None:
        self.remember_names(event)
        community, identity = self.batch.community(event), self.batch.identity(event)
        membership = self.memberships[(community.pk, identity.pk)]
        writes, at = self.writes, event.occurred_at
        fresh = writes.is_new(membership)
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
        if member.pk in self.moderation.blocked:
            writes.flag(membership, "blocked")
            if self.org.remove_blocked_on_join:
                writes.set_status(membership, S.JOINED, at, _("rejoined") if rejoin else "")
                detail = writes.compose(MessageKind.BREACH, rule="blocked")
                self.moderation.remove(membership, community, identity, "blocked", detail, at)
                return
        kinds = self.groups_by_kind.setdefault(member.pk, defaultdict(set))
        kinds[community.kind].add(community.pk)
        unmet = unmet_entry_rules(
            self.org, self.writes.compose, self.rules.get(community.pk), community, identity, kinds
        )
        for rule in unmet:
            writes.flag(membership, rule.flag)
        removal = next((rule for rule in unmet if rule.action == EntryRuleAction.REMOVE), None)
        if removal is not None:
            writes.set_status(membership, S.JOINED, at, _("rejoined") if rejoin else "")
            self.moderation.remove(
                membership,
                community,
                identity,
                removal.reason,
                removal.detail,
                at,
                announce_kind=MessageKind.ENTRY_REMOVE_ANNOUNCE,
            )
            kinds[community.kind].discard(community.pk)
            return
        writes.set_status(membership, S.ONBOARDING, at, _("rejoined") if rejoin else _("joined"))
        membership.welcomed_at = at
        membership.name_card_ok = name_card_ok(rules, member.name_card)
        text = writes.compose(
            MessageKind.WELCOME,
            community_id=community.pk,
            community=community.name,
            custom=rules.welcome_message if rules else "",
        )
        rules_text = render_text(rules, self.org.default_language) if rules else ""
        writes.action(ActionKind.WELCOME, community, identity, text=text, rules_text=rules_text)
        for rule in unmet:
            if rule.action in (EntryRuleAction.NOTIFY, EntryRuleAction.NOTIFY_AND_REVIEW):
                writes.action(ActionKind.NOTIFY, community, identity, text=rule.notice)
            if rule.action in (EntryRuleAction.REVIEW, EntryRuleAction.NOTIFY_AND_REVIEW):
                writes.reviews.append(
                    EntryReview(
                        organization=self.org,
                        membership=membership,
                        community=community,
                        rule=rule.flag,
                        reason=rule.reason,
                        detail=rule.detail[:300],
                        opened_at=at,
                    )
                )
        if event.invited_by and event.invited_by != event.user:
            inviter = self.batch.identity(event, event.invited_by).member
            if inviter.pk != member.pk:
                self._invite(community, inviter, member, at)
        writes.touch(membership)

    def on_member_left(self, event) -> None:
        self.remember_names(event)
        membership = self.membership(event)
        if membership is None or membership.status in (S.LEFT, S.REMOVED):
            return
        membership.left_at = event.occurred_at
        membership.churn_reason = event.reason
        self.writes.set_status(membership, S.LEFT, event.occurred_at, event.reason)
        community = self.batch.community(event)
        rules = self.rules.get(community.pk)
        ask = not event.reason and (rules is None or rules.ask_leavers_why)
        self.writes.leave(membership, community, self.batch.identity(event), event.reason, ask)
        kinds = self.groups_by_kind.get(membership.member_id)
        if kinds:
            kinds[community.kind].discard(community.pk)

    # --- messages --------------------------------------------------------------------------

    def _present(self, event, first_seen_reason):
        """(community, identity, membership) of an event that shows the person in the group,
        or None when they are no longer in it. A membership this batch created becomes active
        with `first_seen_reason`."""
        self.remember_names(event)
        community, identity = self.batch.community(event), self.batch.identity(event)
        membership = self.memberships[(community.pk, identity.pk)]
        if self.writes.is_new(membership):
            self.writes.set_status(membership, S.ACTIVE, event.occurred_at, first_seen_reason)
        if membership.status in (S.LEFT, S.REMOVED):
            return None
        return community, identity, membership

    def on_message_posted(self, event) -> None:
        present = self._present(event, _("first seen posting"))
        if present is None:
            return
        community, identity, membership = present
        writes, at = self.writes, event.occurred_at
        membership.message_count += 1
        membership.last_active_at = max(filter(None, [membership.last_active_at, at]))
        rules = self.rules.get(community.pk)
        if event.name_card:
            membership.name_card_ok = name_card_ok(rules, event.name_card)
        if membership.status == S.DORMANT:
            if (
                membership.last_reminded_at
                and at - membership.last_reminded_at <= REACTIVATION_WINDOW
            ):
                membership.reactivated_at = at
            membership.dormant_since = None
            writes.set_status(membership, S.ACTIVE, at, _("active again"))
        elif membership.status in (S.JOINED, S.ONBOARDING):
            membership.introduced_at = membership.introduced_at or at
            writes.set_status(membership, S.ACTIVE, at, _("first message"))
        elif membership.status == S.WARNED and not self.moderation.active_warnings[membership.pk]:
            writes.set_status(membership, S.ACTIVE, at, _("warnings expired"))
        writes.touch(membership)
        breach = first_breach(rules, event, membership, at, abuse_words=self.abuse_words)
        if breach:
            reason, context = breach
            detail = writes.compose(MessageKind.BREACH, **context)
            ads_group = ""
            if reason == "ads":
                ads_group = next((n for pk, n in self.ads_groups if pk != community.pk), "")
            self.moderation.warn(
                membership, community, identity, reason, detail, at, ads_group, message=event.id
            )
        reply = keyword_reply(rules, event.text)
        if reply is not None:
            rules_text = render_text(rules, self.org.default_language) if "{rules}" in reply else ""
            text = writes.compose(MessageKind.KEYWORD_REPLY, text=reply, rules=rules_text)
            writes.action(ActionKind.REPLY, community, identity, text=text, reply_to=event.id)
        elif (event.text or "").strip().lower() in LINK_KEYWORDS:
            self.send_link(community, identity, LINK_KEYWORDS[event.text.strip().lower()])
        elif (event.text or "").strip().lower() in POSTER_KEYWORDS:
            self.send_poster(community, identity)
        if membership.status != S.REMOVED:
            p = self.points_rules
            self.earn(identity.member, "message", p.per_message, at, cap=p.message_daily_cap)

    # --- engagement ------------------------------------------------------------------------

    def send_link(self, community, identity, target) -> None:
        """The member's personal link, privately, in answer to a keyword (members/access.py)."""
        link = personal_link(identity.member, target)
        if link:
            text = self.writes.compose(
                MessageKind.MEMBER_LINK, link=link, hours=settings.MEMBER_LINK_HOURS
            )
            self.writes.action(ActionKind.NOTIFY, community, identity, text=text)

    def send_poster(self, community, identity) -> None:
        """The group's QR poster, privately, in answer to a keyword; nothing while the group
        has no join link (its page asks the operator for one)."""
        if not community.join_url:
            return
        url = poster_url(community, self.org)
        text = self.writes.compose(
            MessageKind.POSTER_REPLY, community_id=community.pk, community=community.name, url=url
        )
        self.writes.action(ActionKind.NOTIFY, community, identity, text=text, image_url=url)

    def on_member_checked_in(self, event) -> None:
        present = self._present(event, _("first seen checking in"))
        if present is None:
            return
        _community, identity, membership = present
        writes, at = self.writes, event.occurred_at
        day = self._day(at)
        last = self.last_checkins.get(membership.pk)
        if last is not None and last[0] >= day:
            return  # once a day
        streak = last[1] + 1 if last is not None and last[0] == day - timedelta(days=1) else 1
        self.last_checkins[membership.pk] = (day, streak)
        writes.checkins.append(
            CheckIn(
                organization=self.org,
                membership=membership,
                member=identity.member,
                day=day,
                streak=streak,
                created_at=at,
            )
        )
        self.touch_active(membership, at)
        rules = self.points_rules
        self.earn(identity.member, "checkin", rules.checkin, at)
        if streak % rules.streak_days == 0:
            detail = _("%(n)s days in a row") % {"n": streak}
            self.earn(identity.member, "streak", rules.streak_bonus, at, detail=detail)

    def on_member_opened_app(self, event) -> None:
        """Opening the member pages shows the member is around: active in the group, no
        points, no membership created (an app opening is not a sign of being in a group)."""
        self.remember_names(event)
        community, identity = self.batch.community(event), self.batch.identity(event)
        self.touch_active(self.memberships.get((community.pk, identity.pk)), event.occurred_at)

    def on_content_shared(self, event) -> None:
        self.remember_names(event)
        membership = self.membership(event)
        if membership.status in (S.LEFT, S.REMOVED):
            return
        self.touch_active(membership, event.occurred_at)
        rules = self.points_rules
        self.earn(
            self.batch.identity(event).member,
            "share",
            rules.share,
            event.occurred_at,
            detail=event.url,
            cap=rules.share * rules.share_daily_cap,
        )

    def on_member_invited(self, event) -> None:
        self.remember_names(event)
        inviter = self.batch.identity(event).member
        invitee = self.batch.identity(event, event.invitee).member
        if invitee.pk != inviter.pk:
            self._invite(self.batch.community(event), inviter, invitee, event.occurred_at)

    def _invite(self, community, inviter, invitee, at) -> None:
        self.writes.invites.append(
            Invite(
                organization=self.org,
                community=community,
                inviter=inviter,
                invitee=invitee,
                invited_at=at,
            )
        )

    def flush(self) -> None:
        self.writes.flush()


# --- loading helpers -----------------------------------------------------------------------


def _memberships(org, community_ids, identity_ids) -> dict:
    """The memberships this batch touches, locked (in id order, so concurrent batches queue
    instead of deadlocking) so that two batches never overwrite each other's counters."""
    rows = (
        Membership.objects.for_org(org)
        .filter(community_id__in=community_ids, identity_id__in_array=identity_ids)
        .select_for_update()
        .order_by("pk")
    )
    return {(m.community_id, m.identity_id): m for m in rows}


def _last_checkins(org, membership_ids, events) -> dict:
    """{membership_id: (day, streak)} of the latest check-in that can continue a streak."""
    first = min(e.occurred_at for e in events).astimezone(org.tzinfo).date()
    latest: dict = {}
    rows = (
        CheckIn.objects.for_org(org)
        .filter(membership_id__in_array=membership_ids, day__gte=first - timedelta(days=1))
        .values_list("membership_id", "day", "streak")
    )
    for membership_id, day, streak in rows:
        if membership_id not in latest or latest[membership_id][0] < day:
            latest[membership_id] = (day, streak)
    return latest


def _active_warning_counts(org, membership_ids) -> dict:
    return dict(
        Warning.objects.for_org(org)
        .filter(
            membership_id__in_array=membership_ids, revoked_at=None, expires_at__gt=timezone.now()
        )
        .values("membership_id")
        .annotate(n=Count("pk"))
        .values_list("membership_id", "n")
    )


def _groups_by_kind(org, member_ids) -> dict:
    """{member_id: {kind: {community ids}}} of the groups they are in now."""
    groups: dict = defaultdict(lambda: defaultdict(set))
    rows = (
        Membership.objects.for_org(org)
        .filter(member_id__in_array=member_ids, status__in=PRESENT_STATUSES)
        .values_list("member_id", "community__kind", "community_id")
    )
    for member_id, kind, community_id in rows:
        groups[member_id][kind].add(community_id)
    return groups


def _points_today(org, member_ids, events) -> dict:
    """{(member_id, reason, day): points} already credited on the days the batch covers (for
    the daily caps; a backlog of old events counts against its own days)."""
    days = {e.occurred_at.astimezone(org.tzinfo).date() for e in events}
    rows = (
        PointsEntry.objects.for_org(org)
        .filter(member_id__in_array=member_ids, day__gte=min(days), day__lte=max(days), delta__gt=0)
        .values("member_id", "reason", "day")
        .annotate(total=Sum("delta"))
        .values_list("member_id", "reason", "day", "total")
    )
    return {(m, r, d): t for m, r, d, t in rows}
