"""What the campaign pages show a visitor or a signed-in member (read-only)."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import coupons
from campaigns.models import (
    HOLDING,
    Campaign,
    CampaignKind,
    CampaignStatus,
    LotteryDraw,
    LotteryEntry,
    LotteryPrize,
    LotteryWinner,
    Order,
    Team,
    TeamMember,
    TeamStatus,
)
from campaigns.services import OrderRefused, campaign_targets, check_eligible
from campaigns.stock import live_stock_left
from core.local_memo import MISSING, LocalMemo
from integrations.composer import coupon_offer
from members.models import PRESENT_STATUSES, Membership

# The word a visitor without a session sends the bot for their link, by what they look at.
_KEYWORD = {
    CampaignKind.FLASH_SALE: "秒杀",
    CampaignKind.GROUP_BUY: "拼团",
    CampaignKind.LOTTERY: "抽奖",
}


def signin_keyword(kind: str | None = None) -> str:
    if translation.get_language() == "en":
        return "deals" if kind else "me"
    return _KEYWORD.get(kind, "我的")


def shown_campaigns(org):
    """Campaigns members may see: published, not cancelled."""
    return Campaign.objects.for_org(org).filter(status=CampaignStatus.SCHEDULED)


def live_and_upcoming(org, member, now=None) -> list[Campaign]:
    """The campaigns of the member's groups that are live or still to come (the home page)."""
    now = now or timezone.now()
    campaigns = (
        shown_campaigns(org).filter(ends_at__gt=now).select_related("product").order_by("starts_at")
    )
    if member is not None:
        groups = Membership.objects.for_org(org).filter(member=member, status__in=PRESENT_STATUSES)
        campaigns = campaigns.filter(targets__community_id__in=groups.values("community_id"))
    return list(campaigns.distinct()[:50])


def refusal(campaign, member) -> str:
    """Why this member may not take part ("" when they may): the group or the tier."""
    try:
        check_eligible(campaign, member)
    except OrderRefused as refused:
        return refused.message
    return ""


def stock_view(campaign) -> dict:
    return stock_figures(live_stock_left(campaign), campaign.stock_total)


def stock_figures(left: int, total: int) -> dict:
    left = max(0, min(left, total))
    return {"left": left, "total": total, "percent": int(100 * left / (total or 1))}


# What the stock poll needs of a sale besides its count, kept in the cache so that polling
# makes no query: cached when the sale's page is shown, forgotten after the sale ends.
_FACTS_KEY = "qunyun:sale-facts:{org_id}:{pk}"
# ...and for a few seconds in each process's memory: a poll then makes no round trip for them
# either. A change (`forget_sale`) reaches the other processes' polls within these seconds.
_LOCAL_FACTS = LocalMemo(seconds=5)


def remember_sale(campaign) -> dict:
    facts = {
        "total": campaign.stock_total,
        "status": campaign.status,
        "starts_at": campaign.starts_at.timestamp(),
        "ends_at": campaign.ends_at.timestamp(),
    }
    timeout = max(60, int(campaign.ends_at.timestamp() - timezone.now().timestamp()) + 3600)
    cache.set(_FACTS_KEY.format(org_id=campaign.organization_id, pk=campaign.pk), facts, timeout)
    return facts


def sale_facts(org_id: int, pk: int) -> dict | None:
    key = _FACTS_KEY.format(org_id=org_id, pk=pk)
    facts = _LOCAL_FACTS.get(key)
    if facts is MISSING:
        facts = cache.get(key)
        if facts is not None:
            _LOCAL_FACTS.set(key, facts)
    return facts


def forget_sale(campaign) -> None:
    key = _FACTS_KEY.format(org_id=campaign.organization_id, pk=campaign.pk)
    _LOCAL_FACTS.forget(key)
    cache.delete(key)


# The stock bar as rendered, by everything it shows: it changes only when the count, the
# phase or the language does, so a poll mostly sends a copy.
_STOCK_BARS = LocalMemo(seconds=300, max_entries=2_000)


def stock_bar(poll_url: str, left: int, facts: dict) -> str:
    figures, phase = stock_figures(left, facts["total"]), phase_of(facts)
    key = (poll_url, figures["left"], figures["total"], phase, translation.get_language())
    html = _STOCK_BARS.get(key)
    if html is MISSING:
        context = {"poll_url": poll_url, "stock": figures, "phase": phase}
        html = render_to_string("portal/_stock.html", context)
        _STOCK_BARS.set(key, html)
    return html


def phase_of(facts: dict, now=None) -> str:
    """`Campaign.phase` from the cached facts."""
    now = (now or timezone.now()).timestamp()
    if facts["status"] != CampaignStatus.SCHEDULED:
        return facts["status"]
    if now < facts["starts_at"]:
        return "upcoming"
    return "ended" if now >= facts["ends_at"] else "live"


def campaign_context(org, campaign, member, now=None) -> dict:
    now = now or timezone.now()
    phase = campaign.phase(now)
    context = {
        "org": org,
        "campaign": campaign,
        "phase": phase,
        "member": member,
        "countdown_to": campaign.starts_at
        if phase == "upcoming"
        else campaign.ends_at
        if phase == "live"
        else None,
        "groups": campaign_targets(campaign),
        "keyword": signin_keyword(campaign.kind),
    }
    if campaign.kind == CampaignKind.FLASH_SALE:
        context["stock"] = stock_view(campaign)
        context["poll_url"] = reverse(
            "member-campaign-stock", kwargs={"org": org.slug, "pk": campaign.pk}
        )
    if member is not None:
        context["refusal"] = refusal(campaign, member)
        context["orders"] = list(
            Order.objects.for_org(org)
            .filter(campaign=campaign, member=member)
            .order_by("-placed_at")[:20]
        )
    if campaign.kind == CampaignKind.FLASH_SALE and member is not None:
        held = (
            Order.objects.for_org(org)
            .filter(campaign=campaign, member=member, status__in=HOLDING)
            .aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        allowed = max(0, min(campaign.per_member_cap - held, context["stock"]["left"]))
        context["quantities"] = list(range(1, allowed + 1))
        context["cap_reached"] = held >= campaign.per_member_cap
        context["idempotency_key"] = uuid.uuid4().hex
        context["coupon_choices"] = coupon_choices(org, member, campaign, now)
        price, _perk = coupons.quote(campaign, member, 1, now=now)
        context["price_one"] = price
    if campaign.kind == CampaignKind.GROUP_BUY:
        context.update(group_buy_context(org, campaign, member))
    if campaign.kind == CampaignKind.LOTTERY:
        context.update(lottery_context(org, campaign, member))
    return context


def coupon_choices(org, member, campaign, now=None) -> list[dict]:
    """The member's coupons an order of this campaign may use, for the form's choice."""
    return [
        {"coupon": c, "text": coupon_offer(coupons.offer_context(c, org))}
        for c in coupons.usable_coupons(org, member, campaign, now)
    ]


def group_buy_context(org, campaign, member) -> dict:
    if member is None:
        return {"my_team": None}
    row = (
        TeamMember.objects.for_org(org)
        .filter(campaign=campaign, member=member)
        .select_related("team")
        .order_by("-joined_at")
        .first()
    )
    return {
        "my_team": row.team if row else None,
        "coupon_choices": coupon_choices(org, member, campaign),
    }


def team_context(org, team, member, now=None) -> dict:
    now = now or timezone.now()
    campaign = team.campaign
    rows = list(
        TeamMember.objects.for_org(org)
        .filter(team=team)
        .select_related("member", "order")
        .order_by("joined_at")
    )
    my_row = next((r for r in rows if member is not None and r.member_id == member.pk), None)
    mine = my_row is not None
    open_now = team.status == TeamStatus.OPEN and team.deadline > now
    return {
        "org": org,
        "team": team,
        "campaign": campaign,
        "member": member,
        "rows": rows,
        "joined": len(rows),
        "size": campaign.team_size,
        "percent": int(100 * len(rows) / (campaign.team_size or 1)),
        "mine": mine,
        "my_order": my_row.order if my_row else None,
        "open_now": open_now,
        "countdown_to": team.deadline if open_now else None,
        "refusal": refusal(campaign, member) if member is not None and not mine else "",
        "coupon_choices": coupon_choices(org, member, campaign, now)
        if member is not None and not mine and open_now
        else [],
        "keyword": signin_keyword(campaign.kind),
    }


def teams_of(org, campaign):
    return Team.objects.for_org(org).filter(campaign=campaign)


def lottery_context(org, campaign, member) -> dict:
    draw = LotteryDraw.objects.for_org(org).filter(campaign=campaign).first()
    winners = list(
        LotteryWinner.objects.for_org(org)
        .filter(campaign=campaign)
        .select_related("prize", "member")
        .order_by("prize__rank", "position")
    )
    context = {
        "draw": draw,
        "prizes": list(LotteryPrize.objects.for_org(org).filter(campaign=campaign)),
        "winners": winners,
        "entered": False,
        "my_prizes": [],
    }
    if member is not None:
        context["entered"] = (
            LotteryEntry.objects.for_org(org).filter(campaign=campaign, member=member).exists()
        )
        context["my_prizes"] = [w.prize for w in winners if w.member_id == member.pk]
    return context
