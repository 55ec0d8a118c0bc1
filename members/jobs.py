"""Scheduled work on memberships: dormant scan and reminders, invite credits, tier promotion.

Set-based: the dormant scan is UPDATE statements (one per distinct `dormant_after_days`), its
history an INSERT … SELECT; reminders and credits stream in chunks. Safe to run twice at once:
every step is a guarded state transition, so a second run finds nothing left to do.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import CommunityRules, PointsRules, VipTier
from communities.services import evaluate_tier
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import Action, ActionKind

from . import holdout, hooks
from .access import personal_links
from .models import CheckIn, Invite, Member, Membership, MembershipStatus, PointsEntry, TierChange
from .points import post_points
from .status import status_change_bulk

S = MembershipStatus
AWAKE = [S.JOINED, S.ONBOARDING, S.ACTIVE, S.WARNED]
CHUNK = 2000


def mark_dormant(org, now=None) -> int:
    """Members silent for their group's `dormant_after_days` become dormant."""
    now = now or timezone.now()
    marked = 0
    days_by_group = dict(
        CommunityRules.objects.for_org(org).values_list("community_id", "dormant_after_days")
    )
    groups_by_days: dict = {}
    for community_id, days in days_by_group.items():
        groups_by_days.setdefault(days, []).append(community_id)
    for days, community_ids in groups_by_days.items():
        cutoff = now - timedelta(days=days)
        due = (
            Membership.objects.for_org(org)
            .filter(community_id__in=community_ids, status__in=AWAKE)
            .filter(Q(last_active_at__lt=cutoff) | Q(last_active_at=None, joined_at__lt=cutoff))
        )
        with transaction.atomic():
            marked += status_change_bulk(
                due,
                S.DORMANT,
                reason=_("no messages for a while"),
                actor_label=_("dormant scan"),
                at=now,
                dormant_since=now,
            )
    return marked


def _due_reminders(org, community_ids, rule, now):
    """Dormant memberships of these groups (sharing `rule`'s maximum and cooldown) due a
    reminder now."""
    return (
        Membership.objects.for_org(org)
        .filter(
            community_id__in=community_ids,
            status=S.DORMANT,
            reminders_sent__lt=rule.max_reminders,
        )
        .filter(
            Q(last_reminded_at=None)
            | Q(last_reminded_at__lt=now - timedelta(days=rule.reminder_cooldown_days))
        )
    )


def send_reminders(org, now=None, rng: random.Random | None = None) -> int:
    """One reminder per dormant member who is due one (cooldown, maximum), as outbox rows;
    first the members newly due are drawn into the reminded group or the holdout
    (members/holdout.py), and the held-out ones get none. `rng` drives the draw."""
    now = now or timezone.now()
    rng = rng or random.Random()  # noqa: S311 - a control group, not a secret
    sent = 0
    rules = {r.community_id: r for r in CommunityRules.objects.for_org(org)}
    by_terms: dict = {}
    for community_id, rule in rules.items():
        if rule.max_reminders:
            terms = (rule.max_reminders, rule.reminder_cooldown_days)
            by_terms.setdefault(terms, (rule, []))[1].append(community_id)
    holdout.draw(
        org,
        [
            (terms, _due_reminders(org, sorted(ids), rule, now))
            for terms, (rule, ids) in by_terms.items()
        ],
        now=now,
        rng=rng,
    )
    for community_id, rule in rules.items():
        if rule.max_reminders == 0:
            continue
        due = (
            _due_reminders(org, [community_id], rule, now)
            .filter(~holdout.held_out(org, now))
            .select_related("identity", "member", "community")
        )
        while True:
            with transaction.atomic():
                batch = list(due.select_for_update(skip_locked=True).order_by("pk")[:CHUNK])
                if not batch:
                    break
                links = personal_links(org, [m.member for m in batch], "me/")
                offers = wake_up_offers(org, batch, now)
                actions = [
                    reminder_action(
                        org, rule, m, link=links.get(m.member_id, ""), coupon=offers.get(m.pk)
                    )
                    for m in batch
                ]
                outbox.enqueue_all(actions)
                Membership.objects.for_org(org).filter(pk__in=[m.pk for m in batch]).update(
                    reminders_sent=F("reminders_sent") + 1, last_reminded_at=now
                )
                sent += len(batch)
    return sent


def wake_up_offers(org, memberships, now) -> dict:
    """{membership id: the coupon the wake-up offers} from the apps that issue them
    (`hooks.wake_up_offers`), in the caller's transaction."""
    offers: dict = {}
    for found in hooks.wake_up_offers(org=org, memberships=memberships, now=now):
        offers.update(found or {})
    return offers


def reminder_action(org, rule, membership, link: str = "", coupon: dict | None = None) -> Action:
    """The wake-up message for one dormant membership (unsaved), composed from the group's
    wake-up template; `link` is the member's personal link to their page; `coupon` the coupon
    issued for this wake-up (its terms, see composer.coupon_offer), which the offer names in
    place of the group's offer text."""
    name = membership.identity.display_name or membership.member.display_name
    context = {
        "template": rule.reminder_template or "",
        "name": name,
        "offer": rule.reminder_offer,
        "link": link,
    }
    if coupon:
        context["coupon"] = coupon
    text = compose(MessageKind.WAKE_UP, context, language=org.default_language)
    return outbox.build(
        organization=org,
        kind=ActionKind.REMIND,
        community=membership.community,
        member=membership.member,
        text=text,
        user_external_id=membership.identity.external_user_id,
        display_name=name,
        reminder=membership.reminders_sent + 1,
    )


def credit_invites(org, now=None) -> int:
    """Credit inviters whose invitee is still in the group after the minimum stay."""
    now = now or timezone.now()
    rules = PointsRules.objects.for_org(org).first() or PointsRules(organization=org)
    cutoff = now - timedelta(days=rules.invite_min_stay_days)
    credited = 0
    while True:
        with transaction.atomic():
            batch = list(
                Invite.objects.for_org(org)
                .select_for_update(skip_locked=True)
                .filter(credited_at=None, invited_at__lt=cutoff)
                .order_by("pk")[:CHUNK]
            )
            if not batch:
                break
            staying = set(
                Membership.objects.for_org(org)
                .filter(status__in=[*AWAKE, S.DORMANT], joined_at__lte=cutoff)
                .filter(
                    Q(
                        *[Q(community_id=i.community_id, member_id=i.invitee_id) for i in batch],
                        _connector=Q.OR,
                    )
                )
                .values_list("community_id", "member_id")
            )
            good = [i for i in batch if (i.community_id, i.invitee_id) in staying]
            Invite.objects.for_org(org).filter(pk__in=[i.pk for i in good]).update(credited_at=now)
            # invites that did not stay: closed without credit (join-and-leave farming)
            Invite.objects.for_org(org).filter(
                pk__in=[i.pk for i in batch if i not in good]
            ).update(credited_at=now)
            entries = _invite_points(org, rules, good, now)
            post_points(org, entries)
            credited += len(good)
    return credited


def _invite_points(org, rules, invites, now) -> list:
    day = now.astimezone(org.tzinfo).date()
    entries = []
    totals = dict(
        Invite.objects.for_org(org)
        .filter(inviter_id__in={i.inviter_id for i in invites}, credited_at__isnull=False)
        .exclude(pk__in=[i.pk for i in invites])
        .values("inviter_id")
        .annotate(n=Count("pk"))
        .values_list("inviter_id", "n")
    )
    for invite in invites:
        if rules.invite:
            entries.append(
                PointsEntry(
                    organization=org,
                    member_id=invite.inviter_id,
                    delta=rules.invite,
                    reason="invite",
                    detail=str(invite.invitee_id),
                    day=day,
                    created_at=now,
                )
            )
        totals[invite.inviter_id] = totals.get(invite.inviter_id, 0) + 1
        if totals[invite.inviter_id] % rules.invites_for_bonus == 0 and rules.invite_bonus:
            entries.append(
                PointsEntry(
                    organization=org,
                    member_id=invite.inviter_id,
                    delta=rules.invite_bonus,
                    reason="invite_bonus",
                    day=day,
                    created_at=now,
                )
            )
    return entries


def evaluate_tiers(org, now=None) -> int:
    """Promote and demote members by the tiers' conditions (nightly). Manual tiers and members
    inside their tier's hold period are left alone. Returns how many changed."""
    now = now or timezone.now()
    tiers = list(VipTier.objects.for_org(org).filter(is_active=True))
    if not tiers:
        return 0
    since = now - timedelta(days=30)
    changed = 0
    stats = {name: expr for extra in hooks.tier_stats() for name, expr in extra.items()}
    members = Member.objects.for_org(org).annotate(**stats).select_related("tier").order_by("pk")
    active_days = _active_days(org, since)
    for start in range(0, 10**9, CHUNK):
        batch = list(members[start : start + CHUNK])
        if not batch:
            break
        updates, history = [], []
        for member in batch:
            current = member.tier
            if current is not None and current.manual_only:
                continue
            held = (
                current is not None
                and member.tier_since
                and now - member.tier_since < timedelta(days=current.hold_days)
            )
            best = evaluate_tier(
                tiers,
                paid_orders=getattr(member, "paid_orders", 0),
                spend=getattr(member, "spend", None) or 0,
                points=member.points_balance,
                active_days_30=active_days.get(member.pk, 0),
            )
            if best != current and not (held and (best is None or best.rank < current.rank)):
                history.append(
                    TierChange(
                        organization=org,
                        member=member,
                        from_tier=current,
                        to_tier=best,
                        reason="promoted"
                        if best and (current is None or best.rank > current.rank)
                        else "demoted",
                        created_at=now,
                    )
                )
                member.tier, member.tier_since = best, now
                updates.append(member)
        Member.objects.bulk_update(updates, ["tier", "tier_since"])
        TierChange.objects.bulk_create(history)
        changed += len(updates)
    return changed


def _active_days(org, since) -> dict:
    return dict(
        CheckIn.objects.for_org(org)
        .filter(created_at__gte=since)
        .values("member_id")
        .annotate(n=Count("day", distinct=True))
        .values_list("member_id", "n")
    )
