"""Reads of campaigns: what an actor may see, the review after a campaign, the month's budget,
what is live or closing on the organization's home."""

from datetime import datetime, time, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.selectors import communities_where
from members.models import PRESENT_STATUSES, Membership
from members.selectors import visible_members
from tenancy.home import TodayItem, TodaySection, first_of
from tenancy.permissions import can, can_anywhere

from .models import (
    BOUGHT,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    CouponStatus,
    CouponTemplate,
    IssuedCoupon,
    Order,
    OrderStatus,
    Team,
    TeamMember,
    TeamStatus,
)

# Teams closing within this many hours show on the home.
TEAMS_CLOSING_HOURS = 24


def visible_campaigns(actor):
    """Campaigns aimed at a group the actor may see campaigns of."""
    groups = communities_where(actor, "campaign.view")
    targeted = CampaignTarget.objects.for_org(actor.organization).filter(community__in=groups)
    return Campaign.objects.for_org(actor.organization).filter(
        pk__in=targeted.values("campaign_id")
    )


SOLD = [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PLACED]


def _figures(campaign) -> dict:
    org = campaign.organization
    orders = Order.objects.for_org(org).filter(campaign=campaign)
    totals = orders.aggregate(
        units=Sum("quantity", filter=Q(status__in=SOLD)),
        revenue=Sum("amount", filter=Q(status__in=BOUGHT)),
        coupons=Sum("coupon_discount", filter=Q(status__in=BOUGHT)),
        buyers=Count("member", filter=Q(status__in=SOLD), distinct=True),
    )
    targeted = (
        Membership.objects.for_org(org)
        .filter(
            community_id__in=CampaignTarget.objects.for_org(org)
            .filter(campaign=campaign)
            .values("community_id"),
            status__in=PRESENT_STATUSES,
        )
        .values("member_id")
        .distinct()
        .count()
    )
    buyers = totals["buyers"] or 0
    # buyers who have left the groups since still count among the people the sale reached, so
    # the conversion never passes 100%
    left_since = (
        orders.filter(status__in=SOLD)
        .exclude(
            member_id__in=Membership.objects.for_org(org)
            .filter(
                community_id__in=CampaignTarget.objects.for_org(org)
                .filter(campaign=campaign)
                .values("community_id"),
                status__in=PRESENT_STATUSES,
            )
            .values("member_id")
        )
        .values("member_id")
        .distinct()
        .count()
    )
    reached = targeted + left_since
    sell_out = (
        (campaign.sold_out_at - campaign.starts_at).total_seconds()
        if campaign.sold_out_at
        else None
    )
    return {
        "units": totals["units"] or 0,
        "revenue": totals["revenue"] or 0,
        "buyers": buyers,
        "targeted": targeted,
        "conversion": round(buyers / reached, 4) if reached else 0.0,
        "sell_out_seconds": sell_out,
        "coupon_cost": totals["coupons"] or 0,
        "cost": campaign.cost + (totals["coupons"] or 0),
    }


def campaign_review(campaign) -> dict:
    """Units, revenue, buyers, conversion among the targeted members, time to sell out, each
    beside the previous campaign of the same kind (and the change)."""
    current = _figures(campaign)
    previous_campaign = (
        Campaign.objects.for_org(campaign.organization)
        .filter(kind=campaign.kind, starts_at__lt=campaign.starts_at)
        .exclude(status__in=[CampaignStatus.DRAFT, CampaignStatus.CANCELLED])
        .order_by("-starts_at")
        .first()
    )
    previous = _figures(previous_campaign) if previous_campaign else None
    rows = []
    for key in (
        "units",
        "revenue",
        "buyers",
        "conversion",
        "sell_out_seconds",
        "coupon_cost",
        "cost",
    ):
        now_value = current[key]
        before = previous[key] if previous else None
        delta = None
        if now_value is not None and before is not None:
            delta = now_value - before
        rows.append(
            {
                "key": key,
                "value": now_value,
                "previous": before,
                "delta": delta,
                "cells": [now_value, before, delta],  # the columns of the review table
            }
        )
    return {
        "campaign": campaign,
        "previous": previous_campaign,
        "figures": current,
        "rows": rows,
    }


def month_spend(org, day) -> dict:
    """The month's campaign cost against the organization's monthly budget: each campaign's
    own cost plus the coupon value redeemed on its bought orders (paid or reported; a refund
    takes it off again), counted in the month the campaign starts."""
    first = day.replace(day=1)
    start = datetime.combine(first, time.min, tzinfo=org.tzinfo)
    end = datetime.combine((first + timedelta(days=32)).replace(day=1), time.min, tzinfo=org.tzinfo)
    campaigns = (
        Campaign.objects.for_org(org)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=CampaignStatus.CANCELLED)
    )
    own = campaigns.aggregate(total=Sum("cost"))["total"] or 0
    coupons = (
        Order.objects.for_org(org)
        .filter(campaign__in=campaigns, status__in=BOUGHT)
        .aggregate(total=Sum("coupon_discount"))["total"]
        or 0
    )
    spent = own + coupons
    budget = org.monthly_campaign_budget
    return {
        "coupons": coupons,
        "spent": spent,
        "budget": budget,
        "left": (budget - spent) if budget is not None else None,
    }


def budget_warning(org, starts_at, extra_cost=0) -> dict | None:
    """The month's figures when this campaign's cost would take it over budget, else None."""
    spend = month_spend(org, starts_at.astimezone(org.tzinfo).date())
    if spend["budget"] is None or spend["spent"] + extra_cost <= spend["budget"]:
        return None
    return spend


# --- the organization's home ------------------------------------------------------------------


def home_panel(*, actor) -> dict:
    """Sales live now with units left and group-buy teams about to close, in the groups the
    actor may see campaigns of (registered on `tenancy.hooks.dashboard_panels`). Four queries."""
    if not can_anywhere(actor, "campaign.view"):
        return {}
    return {"today": [live_sales(actor), teams_closing(actor)]}


def live_sales(actor) -> TodaySection:
    now = timezone.now()
    org_slug = actor.organization.slug
    rows, total = first_of(
        visible_campaigns(actor).filter(
            kind__in=[CampaignKind.FLASH_SALE, CampaignKind.GROUP_BUY],
            status=CampaignStatus.SCHEDULED,
            starts_at__lte=now,
            ends_at__gt=now,
            stock_left__gt=0,
        ),
        "ends_at",
        "pk",
    )
    return TodaySection(
        key="live-sales",
        title=_("Sales live now"),
        count=total,
        items=[
            TodayItem(
                title=campaign.name,
                url=reverse("campaign-live", args=[org_slug, campaign.pk]),
                meta=_("%(left)s of %(total)s left")
                % {"left": campaign.stock_left, "total": campaign.stock_total},
                deadline=campaign.ends_at,
                deadline_kind="ends",
            )
            for campaign in rows
        ],
        url=reverse("campaigns", args=[org_slug]),
        order=60,
    )


def teams_closing(actor) -> TodaySection:
    now = timezone.now()
    org = actor.organization
    joined = (
        TeamMember.objects.for_org(org)
        .filter(team=OuterRef("pk"))
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows, total = first_of(
        Team.objects.for_org(org)
        .filter(
            status=TeamStatus.OPEN,
            deadline__gt=now,
            deadline__lte=now + timedelta(hours=TEAMS_CLOSING_HOURS),
            campaign__in=visible_campaigns(actor),
        )
        .select_related("campaign", "leader")
        .annotate(joined=Coalesce(Subquery(joined, output_field=IntegerField()), 0)),
        "deadline",
        "pk",
    )
    return TodaySection(
        key="teams",
        title=_("Group-buy teams closing"),
        count=total,
        items=[
            TodayItem(
                title=team.campaign.name,
                url=reverse("campaign-live", args=[org.slug, team.campaign_id]),
                meta=_("%(leader)s's team · %(joined)s of %(size)s joined")
                % {
                    "leader": team.leader,
                    "joined": team.joined,
                    "size": team.campaign.team_size or "?",
                },
                deadline=team.deadline,
                deadline_kind="ends",
            )
            for team in rows
        ],
        url=reverse("campaigns", args=[org.slug]),
        order=50,
    )


# --- coupons -------------------------------------------------------------------------------------


def coupon_templates(org):
    """The organization's coupon templates, active first, with how many of each were used and
    are still available (`issued_count` is kept by the issuing paths)."""
    return (
        CouponTemplate.objects.for_org(org)
        .select_related("redemption_item")
        .annotate(
            used=Count("issued", filter=Q(issued__status=CouponStatus.USED)),
            available=Count("issued", filter=Q(issued__status=CouponStatus.AVAILABLE)),
        )
        .order_by("-is_active", "-created_at", "-pk")
    )


def visible_coupons(actor):
    """Issued coupons of the members the actor may see (org-wide viewers: all of them)."""
    coupons = IssuedCoupon.objects.for_org(actor.organization)
    if can(actor, "member.view"):
        return coupons
    return coupons.filter(member__in=visible_members(actor))
