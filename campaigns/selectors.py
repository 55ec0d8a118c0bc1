"""Reads of campaigns: the review after a campaign, the month's budget."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Q, Sum

from members.models import PRESENT_STATUSES, Membership

from .models import BOUGHT, Campaign, CampaignStatus, CampaignTarget, Order, OrderStatus

SOLD = [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PLACED]


def _figures(campaign) -> dict:
    org = campaign.organization
    orders = Order.objects.for_org(org).filter(campaign=campaign)
    totals = orders.aggregate(
        units=Sum("quantity", filter=Q(status__in=SOLD)),
        revenue=Sum("amount", filter=Q(status__in=BOUGHT)),
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
        "cost": campaign.cost,
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
    for key in ("units", "revenue", "buyers", "conversion", "sell_out_seconds", "cost"):
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
    """The month's campaign cost against the organization's monthly budget."""
    first = day.replace(day=1)
    start = datetime.combine(first, time.min, tzinfo=org.tzinfo)
    end = datetime.combine((first + timedelta(days=32)).replace(day=1), time.min, tzinfo=org.tzinfo)
    spent = (
        Campaign.objects.for_org(org)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=CampaignStatus.CANCELLED)
        .aggregate(total=Sum("cost"))["total"]
        or 0
    )
    budget = org.monthly_campaign_budget
    return {
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
