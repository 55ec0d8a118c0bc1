"""Campaign pages: a flash sale (buy), a group buy (open or join a team), a lottery (enter,
see the result). Public without a session; acting needs the member's own session."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from campaigns import group_buys, lottery, services, stock_gate
from campaigns.models import CampaignKind, Team
from core import ratelimit

from .. import pages
from ..session import enter_org, member_page, org_id_for_slug

# A member may press "buy" this often per minute; the sale's own limits are the cap and stock.
BUY_LIMIT, BUY_WINDOW = 20, 60

TEMPLATES = {
    CampaignKind.FLASH_SALE: "portal/flash_sale.html",
    CampaignKind.GROUP_BUY: "portal/group_buy.html",
    CampaignKind.LOTTERY: "portal/lottery.html",
}


def _campaign(org, pk, kind=None):
    campaigns = pages.shown_campaigns(org).select_related("product", "min_tier")
    if kind is not None:
        campaigns = campaigns.filter(kind=kind)
    campaign = get_object_or_404(campaigns, pk=pk)
    campaign.organization = org  # known already: the services ask for it
    return campaign


@member_page(signed_in=False)
def home(request, org):
    """The member's start page: live and upcoming campaigns of their groups."""
    return render(
        request,
        "portal/home.html",
        {
            "org": org,
            "member": request.member,
            "campaigns": pages.live_and_upcoming(org, request.member),
            "keyword": pages.signin_keyword(),
        },
    )


@member_page(signed_in=False)
def campaign_page(request, org, pk):
    campaign = _campaign(org, pk)
    if campaign.kind == CampaignKind.FLASH_SALE:
        pages.remember_sale(campaign)
        if campaign.phase() in ("upcoming", "live") and stock_gate.live_stock(campaign) is None:
            stock_gate.load(campaign)  # before the crowd: polls and presses then skip the database
    context = pages.campaign_context(org, campaign, request.member)
    return render(request, TEMPLATES[campaign.kind], context)


@require_GET
def stock(request, org, pk):
    """The live stock bar, polled every few seconds by the sale page (htmx). While the sale's
    facts are cached and the stock gate holds it, it makes no database query, and mostly no
    Redis round trip or template rendering either (`stock_gate.polled_stock`, `pages.stock_bar`)."""
    org_id = org_id_for_slug(org)
    facts = pages.sale_facts(org_id, pk) if org_id is not None else None
    left = stock_gate.polled_stock(pk, org_id) if facts is not None else None
    if facts is None or left is None:
        organization = enter_org(request, org)
        campaign = _campaign(organization, pk, CampaignKind.FLASH_SALE)
        facts = pages.remember_sale(campaign)
        left = pages.stock_view(campaign)["left"]
    return HttpResponse(pages.stock_bar(request.path, left, facts))


def _refused(request, message: str):
    messages.error(request, message)


@require_POST
def buy(request, org, pk):
    """Sold out is answered before anything else, from the cache and the stock gate alone:
    when a sale goes live most presses come after the last unit, and none of them need the
    database (the stock is public; nothing about the member is read or written)."""
    org_id = org_id_for_slug(org)
    # the gate holds only this organization's flash sales: its "0" is this sale's
    if org_id is not None and stock_gate.live_stock(pk, organization=org_id) == 0:
        messages.error(request, _("Sold out."))
        return redirect("member-campaign", org=org, pk=pk)
    return _buy(request, org, pk)


@member_page()
def _buy(request, org, pk):
    campaign = _campaign(org, pk, CampaignKind.FLASH_SALE)
    member = request.member
    if not ratelimit.hit(
        "member-buy", f"{org.pk}:{member.pk}", limit=BUY_LIMIT, window=BUY_WINDOW
    ).allowed:
        _refused(request, _("Too many tries; wait a minute and try again."))
        return redirect("member-campaign", org=org.slug, pk=campaign.pk)
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    try:
        order, _created = services.flash_sale_order(
            actor=request.member_actor,
            campaign=campaign,
            member=member,
            quantity=quantity,
            idempotency_key=request.POST.get("idempotency_key", ""),
            coupon=_coupon(request),
        )
    except services.OrderRefused as refused:
        _refused(request, refused.message)
        return redirect("member-campaign", org=org.slug, pk=campaign.pk)
    except ValidationError as invalid:
        _refused(request, " ".join(invalid.messages))
        return redirect("member-campaign", org=org.slug, pk=campaign.pk)
    return redirect("member-order", org=org.slug, pk=order.pk)


def _coupon(request):
    """The coupon the form names: the server checks it is theirs and computes the price."""
    coupon = (request.POST.get("coupon") or "").strip()
    return int(coupon) if coupon.isdigit() and len(coupon) < 18 else (coupon or None)


@require_POST
@member_page()
def team_open(request, org, pk):
    campaign = _campaign(org, pk, CampaignKind.GROUP_BUY)
    try:
        team = group_buys.team_open(
            actor=request.member_actor,
            campaign=campaign,
            member=request.member,
            coupon=_coupon(request),
        )
    except services.OrderRefused as refused:
        _refused(request, refused.message)
        return redirect("member-campaign", org=org.slug, pk=campaign.pk)
    except ValidationError as invalid:
        _refused(request, " ".join(invalid.messages))
        return redirect("member-campaign", org=org.slug, pk=campaign.pk)
    return redirect("member-team", org=org.slug, pk=team.pk)


def _team(org, pk) -> Team:
    team = get_object_or_404(
        Team.objects.for_org(org).select_related("campaign", "campaign__product", "leader"),
        pk=pk,
    )
    if team.campaign.status != "scheduled":
        raise Http404
    return team


@member_page(signed_in=False)
def team_page(request, org, pk):
    team = _team(org, pk)
    context = pages.team_context(org, team, request.member)
    context["share_url"] = share_url = settings.SITE_URL + request.path
    # The poster friends scan: a QR code of the team's link (an SVG data URI, no request).
    context["share_qr"] = segno.make(share_url, error="m").svg_data_uri(scale=4, border=2)
    return render(request, "portal/team.html", context)


@require_POST
@member_page()
def team_join(request, org, pk):
    team = _team(org, pk)
    try:
        group_buys.team_join(
            actor=request.member_actor,
            team=team,
            member=request.member,
            coupon=_coupon(request),
        )
    except services.OrderRefused as refused:
        _refused(request, refused.message)
    except ValidationError as invalid:
        _refused(request, " ".join(invalid.messages))
    return redirect("member-team", org=org.slug, pk=team.pk)


@require_POST
@member_page()
def lottery_enter(request, org, pk):
    campaign = _campaign(org, pk, CampaignKind.LOTTERY)
    try:
        lottery.lottery_enter(actor=request.member_actor, campaign=campaign, member=request.member)
    except services.OrderRefused as refused:
        _refused(request, refused.message)
    else:
        messages.success(request, _("You are in the draw. Good luck!"))
    return redirect("member-campaign", org=org.slug, pk=campaign.pk)
