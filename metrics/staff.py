"""Staff performance: orders and commission per staff member per month (the org's tiered
commission ladder), the activity of their groups, care response times, and award suggestions."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from care.selectors import response_times
from communities.models import StaffAssignment
from core.params import year_month
from members.models import Membership
from tenancy import audit
from tenancy.permissions import require

from .days import day_bounds, local_day
from .models import CommissionTier, CommunityDay
from .rates import Rates, total, window_rates
from .windows import Window

MIN_MEMBERS_FOR_AWARD = 10
MIN_CASES_FOR_AWARD = 3
DEFAULT_LADDER = [(10, Decimal("10")), (20, Decimal("12"))]  # seed 002


def month_window(month: date) -> Window:
    first = month.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return Window(first, next_first - timedelta(days=1))


def parse_month(org, raw: str | None) -> date:
    if not raw:
        return local_day(org, timezone.now()).replace(day=1)
    month = year_month(raw)
    if month is None:
        raise ValidationError({"month": [_("Enter a month as YYYY-MM.")]})
    return month


# --- the ladder ------------------------------------------------------------------------------


def ladder(org) -> list[CommissionTier]:
    return list(CommissionTier.objects.for_org(org).order_by("min_orders"))


def commission_rate(steps, orders: int) -> Decimal:
    rate = Decimal("0")
    for step in steps:
        if orders >= step.min_orders:
            rate = step.rate_percent
    return rate


def ladder_set(*, actor, steps: list[tuple[int, Decimal]]) -> list[CommissionTier]:
    """Replace the org's commission ladder (each step: from N orders, X percent)."""
    require(actor, "org.manage")
    errors = []
    seen = set()
    for min_orders, rate in steps:
        if min_orders is None or min_orders < 1:
            errors.append(_("A step starts at one order or more."))
        if rate is None or not (Decimal("0") <= rate <= Decimal("100")):
            errors.append(_("A commission is between 0 and 100 percent."))
        if min_orders in seen:
            errors.append(_("Two steps start at the same number of orders."))
        seen.add(min_orders)
    ordered = sorted(steps)
    if any(b[1] < a[1] for a, b in zip(ordered, ordered[1:], strict=False)):
        errors.append(_("A higher step may not pay a lower commission."))
    if errors:
        raise ValidationError({"steps": sorted(set(errors))})
    org = actor.organization
    with transaction.atomic():
        before = ", ".join(str(s) for s in ladder(org))
        CommissionTier.objects.for_org(org).delete()
        created = CommissionTier.objects.bulk_create(
            [
                CommissionTier(organization=org, min_orders=n, rate_percent=rate)
                for n, rate in ordered
            ]
        )
        audit.record(
            actor=actor,
            action="metrics.commission_ladder",
            obj=None,
            summary=f"{before or '—'} → {', '.join(str(s) for s in created) or '—'}",
        )
    return created


# --- the month -------------------------------------------------------------------------------


def staff_performance(org, month: date) -> dict:
    window = month_window(month)
    start, end = day_bounds(org, window.start, window.end)
    assignments = list(
        StaffAssignment.objects.for_org(org)
        .filter(assigned_at__lt=end)
        .filter(Q(ended_at=None) | Q(ended_at__gte=start))
        .select_related("user", "community")
        .order_by("user__email", "community__name")
    )
    groups_of = defaultdict(set)
    users, names = {}, {}
    for a in assignments:
        groups_of[a.user_id].add(a.community_id)
        users[a.user_id] = a.user
        names[a.community_id] = a.community.name
    community_ids = sorted({c for groups in groups_of.values() for c in groups})
    sales = {
        r["community_id"]: r
        for r in CommunityDay.objects.for_org(org)
        .filter(community_id__in=community_ids, day__gte=window.start, day__lte=window.end)
        .values("community_id")
        .annotate(orders=Sum("orders"), revenue=Sum("revenue"))
        .order_by()
    }
    reactivated = dict(
        Membership.objects.for_org(org)
        .filter(community_id__in=community_ids, reactivated_at__gte=start, reactivated_at__lt=end)
        .values("community_id")
        .annotate(n=Count("pk"))
        .values_list("community_id", "n")
        .order_by()
    )
    (rates,) = window_rates(org, community_ids, window) if community_ids else ({},)
    care = _care_times(org, start, end, community_ids)
    steps = ladder(org)
    rows = []
    for user_id, groups in groups_of.items():
        orders = sum((sales.get(c) or {}).get("orders") or 0 for c in groups)
        revenue = sum(
            ((sales.get(c) or {}).get("revenue") or Decimal("0") for c in groups), Decimal("0")
        )
        rate = commission_rate(steps, orders)
        mine: Rates = total({c: rates[c] for c in groups})
        service = care["by_staff"].get(user_id, {})
        rows.append(
            {
                "user_id": user_id,
                "name": users[user_id].full_name or users[user_id].email,
                "email": users[user_id].email,
                "groups": sorted(names[c] for c in groups),
                "orders": orders,
                "revenue": revenue,
                "commission_percent": rate,
                "commission": (revenue * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP),
                "activity_rate": mine.activity,
                "reactivated": sum(reactivated.get(c, 0) for c in groups),
                "median_first_response_seconds": service.get("median_first_response_seconds"),
                "median_resolution_seconds": service.get("median_resolution_seconds"),
                "cases": service.get("cases", 0),
            }
        )
    rows.sort(key=lambda r: (-r["revenue"], r["name"]))
    return {
        "month": window.start,
        "window": window,
        "ladder": steps,
        "rows": rows,
        "awards": _awards(rates, reactivated, names, groups_of, users, care),
    }


def _care_times(org, start, end, community_ids) -> dict:
    return response_times(org, start=start, end=end, community_ids=community_ids)


def _awards(rates, reactivated, names, groups_of, users, care) -> list[dict]:
    """Monthly suggestions from the data (seed 002: 最佳活跃奖, 最佳服务奖), with the staff to
    credit. Suggestions only: the operator decides."""
    staff_of = defaultdict(list)
    for user_id, groups in groups_of.items():
        for c in groups:
            staff_of[c].append(users[user_id].full_name or users[user_id].email)
    awards = []
    eligible = [c for c, r in rates.items() if r.members >= MIN_MEMBERS_FOR_AWARD]
    if eligible:
        best = max(eligible, key=lambda c: (rates[c].activity or 0, -c))
        if rates[best].activity:
            awards.append(
                {
                    "award": "most_active_group",
                    "title": _("Most active group"),
                    "group": names[best],
                    "staff": sorted(staff_of[best]),
                    "figure": rates[best].activity,
                    "figure_kind": "rate",
                }
            )
    if reactivated:
        best = max(reactivated, key=lambda c: (reactivated[c], -c))
        awards.append(
            {
                "award": "best_reactivation",
                "title": _("Best reactivation"),
                "group": names.get(best, ""),
                "staff": sorted(staff_of[best]),
                "figure": reactivated[best],
                "figure_kind": "count",
            }
        )
    served = {
        u: s
        for u, s in care["by_staff"].items()
        if u in users
        and s.get("cases", 0) >= MIN_CASES_FOR_AWARD
        and s.get("median_first_response_seconds") is not None
    }
    if served:
        best = min(served, key=lambda u: (served[u]["median_first_response_seconds"], u))
        awards.append(
            {
                "award": "best_service",
                "title": _("Best service"),
                "group": "",
                "staff": [users[best].full_name or users[best].email],
                "figure": served[best]["median_first_response_seconds"],
                "figure_kind": "seconds",
            }
        )
    return awards
