"""What a member sees of themself on their own pages: points, check-ins, tier progress."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import VipTier

from . import hooks
from .models import PRESENT_STATUSES, CheckIn, Membership, PointsEntry
from .selectors import POINTS_LABELS, points_detail

HISTORY_LIMIT = 30

_CONDITIONS = (
    ("min_points", "points", _("points")),
    ("min_paid_orders", "paid_orders", _("paid orders")),
    ("min_spend", "spend", _("spent (yuan)")),
    ("min_active_days_30", "active_days_30", _("check-in days in the last 30")),
)


def points_history(member) -> list[dict]:
    entries = (
        PointsEntry.objects.for_org(member.organization)
        .filter(member=member)
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )
    return [
        {
            "at": e.created_at,
            "delta": e.delta,
            "label": POINTS_LABELS.get(e.reason, _("points")),
            "detail": points_detail(e),
        }
        for e in entries
    ]


def checkin_groups(member, today) -> list[dict]:
    """The groups the member is in, each with today's check-in state and the current streak."""
    org = member.organization
    memberships = list(
        Membership.objects.for_org(org)
        .filter(member=member, status__in=PRESENT_STATUSES)
        .select_related("community", "identity")
        .order_by("community__name")
    )
    last = {}
    for row in (
        CheckIn.objects.for_org(org)
        .filter(membership__in=memberships, day__gte=today - timedelta(days=1))
        .order_by("day")
        .values("membership_id", "day", "streak")
    ):
        last[row["membership_id"]] = row
    groups = []
    for membership in memberships:
        row = last.get(membership.pk)
        streak = row["streak"] if row else 0
        groups.append(
            {
                "membership": membership,
                "community": membership.community,
                "checked_in_today": bool(row and row["day"] == today),
                "streak": streak,
            }
        )
    return groups


def tier_progress(member, now=None) -> dict:
    """The member's tier, its benefits, and what the next automatic tier asks for."""
    org = member.organization
    now = now or timezone.now()
    stats = {name: expr for extra in hooks.tier_stats() for name, expr in extra.items()}
    figures = (
        type(member).objects.for_org(org).filter(pk=member.pk).annotate(**stats).values(*stats)
    ).first() or {}
    have = {
        "points": member.points_balance,
        "paid_orders": figures.get("paid_orders") or 0,
        "spend": figures.get("spend") or 0,
        "active_days_30": CheckIn.objects.for_org(org)
        .filter(member=member, created_at__gte=now - timedelta(days=30))
        .aggregate(n=Count("day", distinct=True))["n"],
    }
    current = member.tier
    tiers = VipTier.objects.for_org(org).filter(is_active=True, manual_only=False)
    if current is not None:
        tiers = tiers.filter(rank__gt=current.rank)
    upcoming = tiers.order_by("rank").first()
    conditions = []
    if upcoming is not None:
        for field, stat, label in _CONDITIONS:
            need = getattr(upcoming, field)
            if need:
                got = have[stat]
                conditions.append(
                    {
                        "label": label,
                        "have": got,
                        "need": need,
                        "percent": min(100, int(100 * got / need)) if need else 100,
                    }
                )
    return {"tier": current, "next": upcoming, "conditions": conditions}
