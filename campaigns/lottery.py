"""Lotteries (抽奖): entries in a window with eligibility, prize tiers (consolation prizes so most
entrants win), and an auditable draw: commitment to a secret seed at opening, hash of the frozen
entrant list at closing, optional public value at the draw, seed revealed, winners recomputable
with `campaigns/lottery_verify.py`."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.access import personal_links
from members.models import CheckIn, Member, RawEvent
from members.selectors import address, addressees
from tenancy import audit
from tenancy.permissions import require, require_for

from . import lottery_verify
from .models import Campaign, CampaignKind, LotteryDraw, LotteryEntry, LotteryPrize, LotteryWinner
from .services import OrderRefused, campaign_targets, check_eligible, flash_sale_create


def lottery_create(
    *,
    actor,
    prizes,
    draw_at,
    require_checkin=False,
    require_share=False,
    prizes_per_member=1,
    **fields,
) -> Campaign:
    """`prizes`: [(name, quantity)], top prize first. The entry window is starts_at–ends_at."""
    prizes = [(str(name).strip()[:100], int(q)) for name, q in prizes if str(name).strip()]
    if not prizes or any(q < 1 or q > 100_000 for _n, q in prizes):
        raise ValidationError({"prizes": [_("Give at least one prize with a quantity.")]})
    if not isinstance(prizes_per_member, int) or not 1 <= prizes_per_member <= 10:
        raise ValidationError({"prizes_per_member": [_("A member may win 1 to 10 prizes.")]})
    if draw_at is None or draw_at < fields.get("ends_at"):
        raise ValidationError({"draw_at": [_("The draw comes after entries close.")]})
    total = sum(q for _n, q in prizes)
    with transaction.atomic():
        campaign = flash_sale_create(
            actor=actor, price=Decimal("0"), original_price=Decimal("0"), stock=total, **fields
        )
        Campaign.objects.for_org(actor.organization).filter(pk=campaign.pk).update(
            kind=CampaignKind.LOTTERY
        )
        campaign.kind = CampaignKind.LOTTERY
        seed = secrets.token_hex(32)
        LotteryDraw.objects.create(
            organization=actor.organization,
            campaign=campaign,
            draw_at=draw_at,
            seed=seed,
            commitment=lottery_verify.commitment_of(seed),
            require_checkin=require_checkin,
            require_share=require_share,
            prizes_per_member=prizes_per_member,
        )
        LotteryPrize.objects.bulk_create(
            [
                LotteryPrize(
                    organization=actor.organization,
                    campaign=campaign,
                    rank=i + 1,
                    name=name,
                    quantity=q,
                )
                for i, (name, q) in enumerate(prizes)
            ]
        )
    return campaign


def lottery_enter(*, actor, campaign, member) -> LotteryEntry:
    require_for(actor, "order.manage", member)
    draw = LotteryDraw.objects.for_org(campaign.organization).get(campaign=campaign)
    if campaign.phase() != "live" or draw.entries_frozen_at:
        raise OrderRefused("not_live", _("Entries are not open now."))
    check_eligible(campaign, member)
    org = campaign.organization
    window = (campaign.starts_at, campaign.ends_at)
    if (
        draw.require_checkin
        and not CheckIn.objects.for_org(org)
        .filter(member=member, created_at__range=window)
        .exists()
    ):
        raise OrderRefused("not_eligible", _("Check in during the lottery to enter."))
    if (
        draw.require_share
        and not RawEvent.objects.for_org(org)
        .filter(member=member, type="content.shared", occurred_at__range=window)
        .exists()
    ):
        raise OrderRefused("not_eligible", _("Share the post during the lottery to enter."))
    try:
        with transaction.atomic():
            return LotteryEntry.objects.create(organization=org, campaign=campaign, member=member)
    except IntegrityError:
        return LotteryEntry.objects.for_org(org).get(campaign=campaign, member=member)


def freeze_entries(campaign) -> LotteryDraw:
    """Close entries and publish the hash of the entrant list (idempotent)."""
    org = campaign.organization
    with transaction.atomic():
        draw = LotteryDraw.objects.for_org(org).select_for_update().get(campaign=campaign)
        if draw.entries_frozen_at is None:
            ids = list(
                LotteryEntry.objects.for_org(org)
                .filter(campaign=campaign)
                .values_list("member_id", flat=True)
            )
            draw.entries_hash = lottery_verify.entries_hash(ids)
            draw.entries_frozen_at = timezone.now()
            draw.save(update_fields=["entries_hash", "entries_frozen_at"])
    return draw


def lottery_draw(*, actor, campaign, public_value: str = "") -> list[LotteryWinner]:
    """Reveal the seed and pick the winners (once). Winners are told through the outbox."""
    for community in campaign_targets(campaign):
        require(actor, "campaign.manage", community)
    public_value = (public_value or "").strip()[:100]
    if campaign.phase() not in ("ended",) and campaign.ends_at > timezone.now():
        raise Conflict(_("Entries are still open."))
    freeze_entries(campaign)
    org = campaign.organization
    with transaction.atomic():
        draw = LotteryDraw.objects.for_org(org).select_for_update().get(campaign=campaign)
        if draw.drawn_at is not None:
            raise Conflict(_("This lottery has been drawn."))
        ids = list(
            LotteryEntry.objects.for_org(org)
            .filter(campaign=campaign)
            .values_list("member_id", flat=True)
        )
        if lottery_verify.entries_hash(ids) != draw.entries_hash:
            raise Conflict(_("The entrant list changed after it was frozen."))
        prizes = list(LotteryPrize.objects.for_org(org).filter(campaign=campaign).order_by("rank"))
        by_name = {p.name: p for p in prizes}
        picked = lottery_verify.winners(
            draw.seed,
            public_value,
            ids,
            [(p.name, p.quantity) for p in prizes],
            draw.prizes_per_member,
        )
        rows = LotteryWinner.objects.bulk_create(
            [
                LotteryWinner(
                    organization=org,
                    campaign=campaign,
                    member_id=member_id,
                    prize=by_name[name],
                    position=pos,
                )
                for member_id, name, pos in picked
            ]
        )
        draw.public_value, draw.drawn_at = public_value, timezone.now()
        draw.save(update_fields=["public_value", "drawn_at"])
        community = next(iter(campaign_targets(campaign)), None)
        members = Member.objects.for_org(org).in_bulk([row.member_id for row in rows])
        reach = addressees(org, members, community.platform if community else None)
        links = personal_links(org, members.values(), f"c/{campaign.pk}/")
        notices = [
            outbox.build(
                organization=org,
                kind=ActionKind.NOTIFY,
                community=community,
                member=members[row.member_id],
                text=compose(
                    MessageKind.LOTTERY_WON,
                    {
                        "prize": row.prize.name,
                        "name": campaign.name,
                        "link": links.get(row.member_id, ""),
                    },
                    language=org.default_language,
                ),
                campaign_id=campaign.pk,
                **address(reach[row.member_id], members[row.member_id]),
            )
            for row in rows
            if row.member_id in reach
        ]
        outbox.enqueue_all(notices)
        audit.record(
            actor=actor,
            action="lottery.draw",
            obj=campaign,
            summary=ngettext("%(n)s winner", "%(n)s winners", len(rows)) % {"n": len(rows)},
        )
    return rows


def run_due(org, actor, now=None) -> int:
    """Freeze lotteries whose entries closed and draw those whose time has come."""
    now = now or timezone.now()
    drawn = 0
    for draw in (
        LotteryDraw.objects.for_org(org)
        .filter(drawn_at=None, campaign__ends_at__lte=now)
        .select_related("campaign")
    ):
        freeze_entries(draw.campaign)
        if draw.draw_at <= now and draw.campaign.status != "cancelled":
            try:
                lottery_draw(actor=actor, campaign=draw.campaign)
                drawn += 1
            except ValidationError:
                continue
    return drawn


def verification(campaign) -> dict:
    """Everything a member needs to check the draw (shown on the public page)."""
    org = campaign.organization
    draw = LotteryDraw.objects.for_org(org).get(campaign=campaign)
    revealed = draw.drawn_at is not None
    return {
        "campaign": campaign,
        "draw": draw,
        "seed": draw.seed if revealed else None,
        "entrants": sorted(
            LotteryEntry.objects.for_org(org)
            .filter(campaign=campaign)
            .values_list("member_id", flat=True)
        )
        if draw.entries_frozen_at
        else None,
        "prizes": list(
            LotteryPrize.objects.for_org(org).filter(campaign=campaign).order_by("rank")
        ),
        "winners": list(
            LotteryWinner.objects.for_org(org)
            .filter(campaign=campaign)
            .select_related("prize")
            .order_by("position")
        ),
        "check": hashlib.sha256(bytes.fromhex(draw.seed)).hexdigest() == draw.commitment
        if revealed
        else None,
    }
