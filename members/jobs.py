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
from integrations.composer import MessageKind, compose_each
from integrations.models import ActionKind

from . import holdout, hooks
from .access import personal_links_by_id
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
    (members/holdout.py), and the held-out ones get none. `rng` drives the draw.

    Set-based: per distinct (maximum, cooldown) of the groups' rules, batches of due
    memberships are claimed in id order with SKIP LOCKED (two runs at once remind each member
    once: a row locked by the other run is the other run's) and written by `write_reminders`:
    a handful of statements per batch, none per member."""
    now = now or timezone.now()
    rng = rng or random.Random()  # noqa: S311 - a control group, not a secret
    sent = 0
    rules = {r.community_id: r for r in CommunityRules.objects.for_org(org)}
    by_terms: dict = {}
    for community_id, rule in rules.items():
        if rule.max_reminders:
            terms = (rule.max_reminders, rule.reminder_cooldown_days)
            by_terms.setdefault(terms, (rule, []))[1].append(community_id)
    due_sets = [
        (terms, _due_reminders(org, sorted(ids), rule, now))
        for terms, (rule, ids) in sorted(by_terms.items())
    ]
    holdout.draw(org, due_sets, now=now, rng=rng)
    held = holdout.held_out_keys(org, now)
    for _terms, due in due_sets:
        claim = due.select_for_update(skip_locked=True).order_by("pk")
        last = 0
        while True:
            with transaction.atomic():
                # in id order from the last batch on: each batch reads only its own rows, not
                # again the ones reminded before it (skipped ones are another run's to send)
                rows = list(
                    claim.filter(pk__gt=last).values_list("pk", holdout.dormancy_start())[:CHUNK]
                )
                if not rows:
                    break
                ids = [pk for pk, episode in rows if (pk, episode) not in held]
                sent += write_reminders(org, rules, ids, now)
                last = rows[-1][0]
    return sent


REMINDER_FIELDS = (
    "pk",
    "community_id",
    "member_id",
    "reminders_sent",
    "identity__external_user_id",
    "identity__display_name",
    "member__display_name",
    "community__external_id",
    "community__platform",
)


def write_reminders(org, rules: dict, membership_ids, now) -> int:
    """Send the wake-up to each of these dormant memberships (which the caller holds, in its
    transaction) and count it on the membership: one read of who they are, one insert of their
    personal links, the offers the apps above make (`hooks.wake_up_offers`), one insert of the
    outbox actions and one update of the counters, whatever their number. Each group's text is
    composed once per shape and filled per member (composer.compose_each). `rules`: the
    groups' CommunityRules by community id. Returns how many were written."""
    memberships = Membership.objects.for_org(org).filter(pk__in=list(membership_ids))
    rows = list(memberships.order_by("pk").values_list(*REMINDER_FIELDS))
    if not rows:
        return 0
    links = personal_links_by_id(org, [row[2] for row in rows], "me/")
    # a queryset: read only by an app that makes an offer
    offers = wake_up_offers(
        org, memberships.select_related("member", "community").order_by("pk"), now
    )
    by_group: dict = {}
    for row in rows:
        by_group.setdefault(row[1], []).append(row)
    actions = []
    for community_id, group_rows in by_group.items():
        rule = rules[community_id]
        context = {"template": rule.reminder_template or "", "offer": rule.reminder_offer}
        members = [_reminder_values(row, links, offers) for row in group_rows]
        texts = compose_each(MessageKind.WAKE_UP, context, members, language=org.default_language)
        for row, values, text in zip(group_rows, members, texts, strict=True):
            pk, _c, member_id, reminders_sent, user_id, _n, _m, external_id, platform = row
            payload = {
                "community_external_id": external_id,
                "platform": platform,
                "user_external_id": user_id,
                "display_name": values["name"],
                "text": text,
                "reminder": reminders_sent + 1,
            }
            actions.append((community_id, member_id, payload))
    outbox.enqueue_rows(organization=org, kind=ActionKind.REMIND, rows=actions)
    memberships.update(reminders_sent=F("reminders_sent") + 1, last_reminded_at=now)
    return len(actions)


def _reminder_values(row, links: dict, offers: dict) -> dict:
    """One member's part of the wake-up: their name (as the group knows them, else their
    member name), their personal link, the coupon an app offers them."""
    pk, _c, member_id, _sent, _user_id, identity_name, member_name, _e, _p = row
    values = {"name": identity_name or member_name or "", "link": links.get(member_id, "")}
    if offers.get(pk):
        values["coupon"] = offers[pk]
    return values


def wake_up_offers(org, memberships, now) -> dict:
    """{membership id: the coupon the wake-up offers} from the apps that issue them
    (`hooks.wake_up_offers`), in the caller's transaction."""
    offers: dict = {}
    for found in hooks.wake_up_offers(org=org, memberships=memberships, now=now):
        offers.update(found or {})
    return offers


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
