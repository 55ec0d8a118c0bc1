"""Staff performance: orders and commission per staff member per month (the org's tiered
commission ladder), the activity of their groups, care response times, and award suggestions.

Attribution (docs/commission.md): a group's revenue of a month is credited to one person, its
lead: the sub-owner who ran it for the largest part of the month, or, in a month without a
sub-owner, the deputy on the same terms. Officers are not credited with revenue. So the revenue
credited to all staff together never exceeds the revenue; what no lead ran is shown apart."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from care.selectors import response_times
from communities.models import Community, StaffAssignment
from core.formatting import count, num
from core.params import year_month
from members.models import Membership
from tenancy import audit
from tenancy.permissions import require
from tenancy.roles import CommunityRole

from .days import day_bounds, local_day
from .models import CommissionTier, CommunityDay
from .rates import Rates, total, window_rates
from .windows import Window

MIN_MEMBERS_FOR_AWARD = 10
MIN_CASES_FOR_AWARD = 3
DEFAULT_LADDER = [(10, Decimal("10")), (20, Decimal("12"))]  # seed 002
# Who is credited with a group's revenue, in order of precedence (docs/commission.md).
LEAD_ROLES = (CommunityRole.SUB_OWNER, CommunityRole.DEPUTY)


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


def step_label(step) -> str:
    """A ladder step as a person reads it: "10% from 10 orders"."""
    return _("%(rate)s%% from %(n)s orders") % {
        "rate": num(step.rate_percent),
        "n": count(step.min_orders),
    }


def ladder_label(steps) -> str:
    return pgettext("list separator", ", ").join(step_label(s) for s in steps) or "—"


def group_leads(assignments, start, end, now=None) -> dict[int, int]:
    """{community id: user id} of the person credited with each group's revenue in [start,
    end): the sub-owner who ran the group for the largest part of it (up to `now`), else the
    deputy on the same terms; ties go to the earlier assignment. Groups with neither are
    absent."""
    now = now or timezone.now()
    best: dict[int, tuple] = {}
    for a in assignments:
        if a.role not in LEAD_ROLES:
            continue
        begin = max(a.assigned_at, start)
        finish = min(a.ended_at or end, end, max(now, begin))
        if a.ended_at is not None and a.ended_at < start:
            continue
        held = max(finish - begin, timedelta(0))
        key = (LEAD_ROLES.index(a.role), -held, a.assigned_at, a.pk)
        if a.community_id not in best or key < best[a.community_id][0]:
            best[a.community_id] = (key, a.user_id)
    return {community_id: user_id for community_id, (_key, user_id) in best.items()}


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
        before = ladder_label(ladder(org))
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
            summary=f"{before} → {ladder_label(created)}",
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
    sales = {  # every group's month, staffed or not: the total the credits are part of
        r["community_id"]: r
        for r in CommunityDay.objects.for_org(org)
        .filter(day__gte=window.start, day__lte=window.end)
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
    leads = group_leads(assignments, start, end)
    credited_of = defaultdict(set)
    for community_id, user_id in leads.items():
        credited_of[user_id].add(community_id)

    def orders_in(groups) -> int:
        return sum((sales.get(c) or {}).get("orders") or 0 for c in groups)

    def revenue_in(groups) -> Decimal:
        return sum(
            ((sales.get(c) or {}).get("revenue") or Decimal("0") for c in groups), Decimal("0")
        )

    rows = []
    for user_id, groups in groups_of.items():
        credited = credited_of.get(user_id, set())
        orders = orders_in(credited)
        revenue = revenue_in(credited)
        rate = commission_rate(steps, orders)
        mine: Rates = total({c: rates[c] for c in groups})
        service = care["by_staff"].get(user_id, {})
        rows.append(
            {
                "user_id": user_id,
                "name": users[user_id].full_name or users[user_id].email,
                "email": users[user_id].email,
                "groups": sorted(names[c] for c in groups),
                "credited_groups": sorted(names[c] for c in credited),
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
    uncredited = sorted(
        c for c, r in sales.items() if c not in leads and (r["orders"] or r["revenue"])
    )
    missing = [c for c in uncredited if c not in names]
    names.update(Community.objects.for_org(org).filter(pk__in=missing).values_list("pk", "name"))
    return {
        "month": window.start,
        "window": window,
        "ladder": steps,
        "rows": rows,
        "revenue": revenue_in(sales),
        "credited_revenue": sum((r["revenue"] for r in rows), Decimal("0")),
        "uncredited": {
            "groups": sorted(names[c] for c in uncredited),
            "orders": orders_in(uncredited),
            "revenue": revenue_in(uncredited),
        },
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
