"""Monthly award rounds: nominees computed at month end, winners confirmed by the owner and
announced in the groups by the bot (the text composed in integrations.composer)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import CommunityStatus, StaffAssignment
from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.models import PRESENT_STATUSES, Membership
from metrics.staff import month_window
from tenancy import audit
from tenancy.actors import Actor
from tenancy.permissions import require

from ..models import MEMBER_AWARDS, AwardRound, Nominee, RoundStatus
from ..selectors.awards import nominees
from ..weeks import today as local_today


def previous_month(day: date) -> date:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def _create_nominees(org, award_round) -> int:
    rows = nominees(org, award_round.month)
    Nominee.objects.bulk_create(
        [
            Nominee(
                organization=org,
                round=award_round,
                award=row["award"],
                community_id=row["community_id"],
                rank=row["rank"],
                user_id=row.get("user_id"),
                member_id=row.get("member_id"),
                figures=row["figures"],
            )
            for row in rows
        ]
    )
    return len(rows)


def round_open(org, month: date | None = None) -> AwardRound | None:
    """Compute the nominees of `month` once. Without a month (the month-end job): the month
    before the organization's today, unless the organization did not exist yet then. Returns
    the new round, or None when it already exists (another worker or an earlier run made it)."""
    if month is None:
        month = previous_month(local_today(org))
        if org.created_at.astimezone(org.tzinfo).date() > month_window(month).end:
            return None
    month = month.replace(day=1)
    if AwardRound.objects.for_org(org).filter(month=month).exists():
        return None
    try:
        with transaction.atomic():
            award_round = AwardRound.objects.create(organization=org, month=month)
            n = _create_nominees(org, award_round)
            audit.record(
                actor=Actor.system(org, _("monthly awards")),
                action="teamwork.awards_nominated",
                obj=award_round,
                summary=_("%(n)s nominees") % {"n": n},
            )
    except IntegrityError:
        return None  # a racing worker made it first
    return award_round


def _locked_open_round(actor, award_round) -> AwardRound:
    locked = (
        AwardRound.objects.for_org(actor.organization).select_for_update().get(pk=award_round.pk)
    )
    if locked.status != RoundStatus.NOMINATED:
        raise Conflict(_("This month's winners are already confirmed."))
    return locked


def round_recompute(*, actor, award_round) -> AwardRound:
    """Compute the nominees again from the data as it is now (late events, corrected cases),
    before the winners are confirmed."""
    require(actor, "award.confirm")
    org = actor.organization
    with transaction.atomic():
        locked = _locked_open_round(actor, award_round)
        Nominee.objects.for_org(org).filter(round=locked).delete()
        n = _create_nominees(org, locked)
        locked.computed_at = timezone.now()
        locked.save(update_fields=["computed_at"])
        audit.record(
            actor=actor,
            action="teamwork.awards_recomputed",
            obj=locked,
            summary=_("%(n)s nominees") % {"n": n},
        )
    return locked


def slots(award_round) -> dict[tuple, list[Nominee]]:
    """{(award, community id or None): nominees by rank}: each slot has at most one winner."""
    found: dict[tuple, list[Nominee]] = {}
    rows = (
        Nominee.objects.for_org(award_round.organization)
        .filter(round=award_round)
        .select_related("user", "member", "community")
        .order_by("award", "community_id", "rank")
    )
    for nominee in rows:
        found.setdefault((nominee.award, nominee.community_id), []).append(nominee)
    return found


def slot_key(award, community_id) -> str:
    """The form field of a slot: "best_service" or "best_activity-12"."""
    return award if community_id is None else f"{award}-{community_id}"


def round_confirm(*, actor, award_round, choices: dict) -> AwardRound:
    """Confirm the winners: `choices` maps each slot's key (`slot_key`) to the chosen
    nominee's id, or to "" for no winner in that slot. Every winner is announced in their
    group(s) by the bot, in the same transaction."""
    require(actor, "award.confirm")
    org = actor.organization
    with transaction.atomic():
        locked = _locked_open_round(actor, award_round)
        chosen = []
        for (award, community_id), candidates in slots(locked).items():
            raw = str(choices.get(slot_key(award, community_id), "")).strip()
            if not raw:
                continue
            winner = next((n for n in candidates if str(n.pk) == raw), None)
            if winner is None:
                raise ValidationError(_("Choose the winners among the nominees."))
            chosen.append(winner)
        if not chosen:
            raise ValidationError(_("Choose at least one winner."))
        now = timezone.now()
        for winner in chosen:
            _announce(org, locked, winner)
        Nominee.objects.for_org(org).filter(pk__in=[w.pk for w in chosen]).update(
            is_winner=True, announced_at=now
        )
        locked.status = RoundStatus.CONFIRMED
        locked.confirmed_at = now
        locked.confirmed_by = actor.user
        locked.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        audit.record(
            actor=actor,
            action="teamwork.awards_confirmed",
            obj=locked,
            summary=", ".join(str(w) for w in chosen)[:500],
        )
    return locked


def _announce(org, award_round, winner: Nominee) -> None:
    """The bot announces the winner: a member in their group, a staff member in each group
    they are on the staff of."""
    context = {
        "award": winner.award,
        "month_start": award_round.month,
        "days": winner.figures.get("days", 0),
        "handled": winner.figures.get("handled", 0),
    }
    if winner.award in MEMBER_AWARDS:
        membership = (
            Membership.objects.for_org(org)
            .filter(
                member_id=winner.member_id,
                community_id=winner.community_id,
                status__in=PRESENT_STATUSES,
            )
            .select_related("identity", "member", "community")
            .first()
        )
        if membership is None:
            return  # left since the nominees were computed: nothing to say in the group
        name = membership.identity.display_name or str(membership.member)
        groups = [membership.community]
    else:
        name = winner.user.full_name or winner.user.get_short_name()
        groups = [
            a.community
            for a in StaffAssignment.objects.for_org(org)
            .filter(user_id=winner.user_id, ended_at=None, community__status=CommunityStatus.ACTIVE)
            .select_related("community")
            .order_by("community_id")
        ]
        groups = list({c.pk: c for c in groups}.values())
    for community in groups:  # in each group's own wording, where it has one
        text = compose(
            MessageKind.AWARD,
            {**context, "name": name},
            language=org.default_language,
            org=org,
            community_id=community.pk,
        )
        outbox.enqueue(organization=org, kind=ActionKind.ANNOUNCE, community=community, text=text)
