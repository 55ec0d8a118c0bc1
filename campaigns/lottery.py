"""Lotteries (抽奖): entries in a window with eligibility, prize tiers (consolation prizes so most
entrants win), and an auditable draw the organizer cannot steer: at opening, a commitment to a
secret seed and the name of the public value that will decide the draw (published after entries
close, e.g. a national lottery's result); at closing, the hash of the frozen entrant list; at the
draw, that public value (required) and the seed revealed. Winners are recomputable with
`campaigns/lottery_verify.py`, whose docstring says why naming the value in advance closes the
hole a known seed leaves open."""

from __future__ import annotations

import secrets
import shlex
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
    public_source=None,
    public_value_at=None,
    require_checkin=False,
    require_share=False,
    prizes_per_member=1,
    **fields,
) -> Campaign:
    """`prizes`: [(name, quantity)], top prize first. The entry window is starts_at–ends_at.
    `public_source` names the public value that will decide the draw (e.g. "体彩大乐透 第 26140 期
    开奖号码") and `public_value_at` when it is published: after entries close, at the latest
    at the draw. Both are published with the seed's commitment."""
    prizes = [(str(name).strip()[:100], int(q)) for name, q in prizes if str(name).strip()]
    errors = {}
    if not prizes or any(q < 1 or q > 100_000 for _n, q in prizes):
        errors["prizes"] = [_("Give at least one prize with a quantity.")]
    if not isinstance(prizes_per_member, int) or not 1 <= prizes_per_member <= 10:
        errors["prizes_per_member"] = [_("A member may win 1 to 10 prizes.")]
    ends_at = fields.get("ends_at")
    public_source = " ".join(str(public_source or "").split())
    if not public_source or len(public_source) > 200:
        errors["public_source"] = [
            _(
                "Name the public value that will decide the draw, published after entries "
                "close (at most 200 characters), e.g. a national lottery's result for a given "
                "issue."
            )
        ]
    if public_value_at is None or (ends_at is not None and public_value_at <= ends_at):
        errors["public_value_at"] = [_("The public value must be published after entries close.")]
    if draw_at is None or (ends_at is not None and draw_at < ends_at):
        errors["draw_at"] = [_("The draw comes after entries close.")]
    elif public_value_at is not None and draw_at < public_value_at:
        errors["draw_at"] = [_("The draw comes after the public value is published.")]
    if errors:
        raise ValidationError(errors)
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
            public_source=public_source,
            public_value_at=public_value_at,
            draw_rule=lottery_verify.CURRENT_RULE,
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
    """Reveal the seed and pick the winners (once), with the public value the lottery named
    when it opened, as published. Winners are told through the outbox."""
    for community in campaign_targets(campaign):
        require(actor, "campaign.manage", community)
    public_value = (public_value or "").strip()[:100]
    now = timezone.now()
    if campaign.phase() not in ("ended",) and campaign.ends_at > now:
        raise Conflict(_("Entries are still open."))
    freeze_entries(campaign)
    org = campaign.organization
    with transaction.atomic():
        draw = LotteryDraw.objects.for_org(org).select_for_update().get(campaign=campaign)
        if draw.drawn_at is not None:
            raise Conflict(_("This lottery has been drawn."))
        _check_public_value(draw, public_value, now)
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
            draw.draw_rule,
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
                    org=org,
                    community_id=community.pk if community else None,
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


def _check_public_value(draw, public_value: str, now) -> None:
    """Refuse a draw without the named public value, or before it can have been published."""
    tz = draw.campaign.organization.tzinfo
    source = draw.public_source or _("a public value nobody knows in advance")
    if not public_value:
        raise Conflict(
            _(
                "Enter the public value this lottery named when it opened (%(source)s), as "
                "published. The draw needs it: without it the organizer could steer the result."
            )
            % {"source": source}
        )
    if draw.public_value_at is not None and now < draw.public_value_at:
        raise Conflict(
            _("%(source)s is published at %(when)s; draw after that, with the published value.")
            % {
                "source": source,
                "when": draw.public_value_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            }
        )


def run_due(org, now=None) -> int:
    """Freeze the entrant lists of lotteries whose entries closed (their hash is published
    before the public value that decides the draw). The draw itself waits for the public value:
    staff enter it, or a bot posts it to the draw API, once it is published. Returns how many
    lists were frozen."""
    now = now or timezone.now()
    frozen = 0
    for draw in (
        LotteryDraw.objects.for_org(org)
        .filter(drawn_at=None, entries_frozen_at=None, campaign__ends_at__lte=now)
        .exclude(campaign__status="cancelled")
        .select_related("campaign")
    ):
        freeze_entries(draw.campaign)
        frozen += 1
    return frozen


def verification(campaign) -> dict:
    """Everything a member needs to check the draw (shown on the public page)."""
    org = campaign.organization
    draw = LotteryDraw.objects.for_org(org).get(campaign=campaign)
    revealed = draw.drawn_at is not None
    entrants = (
        sorted(
            LotteryEntry.objects.for_org(org)
            .filter(campaign=campaign)
            .values_list("member_id", flat=True)
        )
        if draw.entries_frozen_at
        else None
    )
    prizes = list(LotteryPrize.objects.for_org(org).filter(campaign=campaign).order_by("rank"))
    return {
        "campaign": campaign,
        "draw": draw,
        "seed": draw.seed if revealed else None,
        "entrants": entrants,
        "prizes": prizes,
        "winners": list(
            LotteryWinner.objects.for_org(org)
            .filter(campaign=campaign)
            .select_related("prize")
            .order_by("position")
        ),
        "check": lottery_verify.commitment_of(draw.seed) == draw.commitment if revealed else None,
        # the entrant list was frozen before the public value could be known
        "frozen_in_time": draw.entries_frozen_at < draw.public_value_at
        if draw.entries_frozen_at and draw.public_value_at
        else None,
        "command": _command(draw, entrants, prizes) if revealed else None,
        "published": draw.public_value_at is None or timezone.now() >= draw.public_value_at,
    }


def _command(draw, entrants, prizes) -> str:
    """The lottery_verify.py command line that recomputes this draw."""
    args = {
        "--seed": draw.seed,
        "--commitment": draw.commitment,
        "--public-value": draw.public_value,
        "--entries-hash": draw.entries_hash,
        "--entrants": ",".join(map(str, entrants or [])),
        "--prizes": ",".join(f"{p.name}:{p.quantity}" for p in prizes),
        "--per-member": str(draw.prizes_per_member),
        "--rule": str(draw.draw_rule),
    }
    return "python3 lottery_verify.py " + " ".join(
        f"{flag} {shlex.quote(value)}" for flag, value in args.items()
    )
