"""What the metric pages and the API show, read from rollups only (never raw events)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from pyroaring import BitMap64

from campaigns.models import Campaign, CampaignStatus
from campaigns.selectors import campaign_review
from communities.selectors import communities_where
from members.models import ChurnReason, Membership, MembershipStatus
from tenancy.home import Figure
from tenancy.permissions import can
from tenancy.rls import org_hint

from . import page_cache
from .charts import sparkline_points
from .days import day_bounds, days_between, local_day
from .leaderboards import read_or_compute
from .models import CommunityDay
from .rates import compare, members_at, speakers, total, window_rates
from .windows import Window, last_days

SORT_KEYS = ("name", "members", "activity", "conversion", "repurchase")
COHORT_WEEKS = 8
WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)


def metric_communities(actor):
    """The groups whose metrics the actor may see: all, or the ones they are staff of."""
    return communities_where(actor, "metrics.view").filter(status="active")


def definitions() -> list[dict]:
    return [
        {
            "key": "activity",
            "label": _("Activity rate"),
            "definition": _(
                "Distinct members who posted in the window ÷ members in the window (in the "
                "group at some time in it)."
            ),
        },
        {
            "key": "conversion",
            "label": _("Conversion rate"),
            "definition": _(
                "Distinct buyers in the window ÷ members in the window (in the group at some "
                "time in it)."
            ),
        },
        {
            "key": "repurchase",
            "label": _("Repurchase rate"),
            "definition": _("Buyers with two or more orders in the window ÷ buyers."),
        },
    ]


# --- org overview ----------------------------------------------------------------------------


def overview(actor, window: Window, sort: str = "-members") -> dict:
    org = actor.organization
    groups = list(metric_communities(actor).order_by("name").values("pk", "name", "kind"))
    ids = [g["pk"] for g in groups]
    figures = page_cache.cached(
        org.pk,
        "overview",
        (page_cache.scope(ids), window.key),
        lambda: _overview_figures(org, ids, window),
    )
    rows = [
        {"id": g["pk"], "name": g["name"], "kind": g["kind"], **figures["rows"][g["pk"]]}
        for g in groups
    ]
    return {
        "window": window,
        "previous": window.previous(),
        "rows": sort_rows(rows, sort),
        "total": figures["total"],
    }


def _overview_figures(org, ids: list[int], window: Window) -> dict:
    """Each group's rates beside the window before and its daily activity, and the total:
    what the overview shows that depends on the rollups alone (cached)."""
    current, previous = window_rates(org, ids, window, window.previous())
    spark = _daily_series(org, ids, window)
    return {
        "rows": {
            pk: {
                **compare(current[pk], previous[pk]),
                "activity_series": [d["activity_rate"] for d in spark[pk]],
            }
            for pk in ids
        },
        "total": compare(total(current), total(previous)),
    }


# --- the organization's home -----------------------------------------------------------------


def home_figures(actor) -> list[Figure]:
    """Today's and the last 7 days' figures beside the 7 days before, with a daily line over
    the 14 days: members, speakers, orders and (with metrics.revenue) revenue, in the groups
    whose metrics the actor may see. From the rollups only (cached: page_cache), five queries
    at most."""
    org = actor.organization
    ids = list(metric_communities(actor).values_list("pk", flat=True))
    if not ids:
        return []
    week = last_days(org, 7, local_day(org, timezone.now()))
    numbers = page_cache.cached(
        org.pk, "home", (page_cache.scope(ids), week.key), lambda: _home_numbers(org, ids, week)
    )
    members, net = numbers["members"], numbers["net"]
    speakers_week, speakers_before = numbers["distinct_speakers"]
    daily = numbers.__getitem__

    figures = [
        Figure(
            key="members",
            label=_("Members"),
            today=members[-1],
            today_label=_("in the groups now"),
            week=sum(net[7:]),
            previous_week=sum(net[:7]),
            signed=True,
            spark=sparkline_points(members, from_zero=False),
            order=10,
        ),
        Figure(
            key="speakers",
            label=_("Speakers"),
            today=daily("speakers")[-1],
            week=speakers_week,
            previous_week=speakers_before,
            spark=sparkline_points(daily("speakers")),
            order=20,
        ),
        Figure(
            key="orders",
            label=_("Orders"),
            today=daily("orders")[-1],
            week=sum(daily("orders")[7:]),
            previous_week=sum(daily("orders")[:7]),
            spark=sparkline_points(daily("orders")),
            order=30,
        ),
    ]
    if can(actor, "metrics.revenue"):
        revenue = [Decimal(v) for v in daily("revenue")]
        figures.append(
            Figure(
                key="revenue",
                label=_("Revenue"),
                today=revenue[-1],
                week=sum(revenue[7:], Decimal(0)),
                previous_week=sum(revenue[:7], Decimal(0)),
                money=True,
                spark=sparkline_points(revenue),
                order=40,
            )
        )
    return figures


def _home_numbers(org, ids: list[int], week: Window) -> dict:
    """The daily sums over the two weeks, the headcount each day and the distinct speakers of
    each week: the home's figures without their words (cached)."""
    before = week.previous()
    days = days_between(before.start, week.end)
    sums = {
        row["day"]: row
        for row in CommunityDay.objects.for_org(org)
        .filter(community_id__in=ids, day__gte=before.start, day__lte=week.end)
        .values("day")
        .annotate(
            net=Sum("net"), speakers=Sum("speakers"), orders=Sum("orders"), revenue=Sum("revenue")
        )
        .order_by()
    }
    numbers = {
        name: [(sums.get(day) or {}).get(name) or 0 for day in days]
        for name in ("net", "speakers", "orders", "revenue")
    }
    headcount = sum(members_at(org, ids, before.start - timedelta(days=1)).values())
    numbers["members"] = []
    for net in numbers["net"]:
        headcount += net
        numbers["members"].append(headcount)
    numbers["distinct_speakers"] = tuple(speakers(org, ids, week, before))
    return numbers


def home_panel(*, actor) -> dict:
    """The figures on the organization's home (registered on `tenancy.hooks.dashboard_panels`)."""
    return {"figures": home_figures(actor)}


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key, descending = "members", True
    field = key if key in ("name", "members") else f"{key}_rate"

    def value(row):
        v = row[field]
        return (v is not None, v if v is not None else 0) if field != "name" else v

    ordered = sorted(rows, key=lambda r: r["name"])
    return sorted(ordered, key=value, reverse=descending)


def _daily_series(org, community_ids, window: Window) -> dict[int, list[dict]]:
    """Per group, one entry per day of the window: headcount (carried over days without a
    rollup), speakers, buyers, orders, revenue and the day's rates. A day's rates divide by
    the members in the group at some time that day (the day before's headcount plus the
    day's joins), as the window's rates do (metrics.rates)."""
    rows = (
        CommunityDay.objects.for_org(org)
        .filter(community_id__in=community_ids, day__gte=window.start, day__lte=window.end)
        .values_list(
            "community_id",
            "day",
            "members_end",
            "speakers",
            "buyers",
            "orders",
            "revenue",
            "joins",
        )
        .order_by()
    )
    by_day = {(c, d): rest for c, d, *rest in rows}
    opening = members_at(org, community_ids, window.start - timedelta(days=1))
    series = {}
    for c in community_ids:
        members = opening.get(c, 0)
        out = []
        for day in days_between(window.start, window.end):
            found = by_day.get((c, day))
            headcount_before = members
            if found:
                members, speakers, buyers, orders, revenue, joins = found
            else:
                speakers = buyers = orders = joins = 0
                revenue = Decimal("0")
            base = max(headcount_before + joins, speakers, buyers)
            out.append(
                {
                    "day": day,
                    "members": members,
                    "speakers": speakers,
                    "buyers": buyers,
                    "orders": orders,
                    "revenue": revenue,
                    "activity_rate": speakers / base if base else None,
                    "conversion_rate": buyers / base if base else None,
                }
            )
        series[c] = out
    return series


# --- one community -----------------------------------------------------------------------------


def community_report(actor, community, window: Window) -> dict:
    org = actor.organization
    show_revenue = can(actor, "metrics.revenue")
    return {
        "community": community,
        **rollup_report(org, community, window, show_revenue=show_revenue),
        **live_report(org, community, window, show_revenue=show_revenue),
        "show_revenue": show_revenue,
    }


def rollup_report(org, community, window: Window, *, show_revenue: bool) -> dict:
    """The part of a group's report read from the rollups alone: the same for every viewer
    who may (or may not) see revenue, changed only by a rollup refresh. Its figures are cached
    for every viewer (metrics/page_cache.py: revenue and spend taken out afterwards for those
    who may not see them, labels translated per request); the API caches the whole part as
    it serializes it (metrics/report_cache.py)."""
    figures = page_cache.cached(
        org.pk,
        "community",
        (community.pk, window.key),
        lambda: _community_figures(org, community, window),
    )
    series = [dict(point) for point in figures["series"]]
    top = [dict(row) for row in figures["top"]]
    if not show_revenue:
        for point in series:
            point.pop("revenue")
        for row in top:
            row.pop("spend", None)
    return {
        "window": window,
        "previous": window.previous(),
        "rates": figures["rates"],
        "series": series,
        "heatmap": figures["heatmap"],
        "churn": _churn_labels(*figures["churn"]),
        "cohorts": figures["cohorts"],
        "top": top,
    }


def live_report(org, community, window: Window, *, show_revenue: bool) -> dict:
    """The part read from the records themselves: dormancy and the campaigns' reviews."""
    return {
        "dormancy": dormancy(org, community, window),
        "campaigns": campaign_reviews(org, community, window) if show_revenue else [],
    }


def _community_figures(org, community, window: Window) -> dict:
    """What a group's page reads from the rollups alone, for every viewer (cached): the
    revenue and spend are taken out afterwards for those who may not see them."""
    current, previous = window_rates(org, [community.pk], window, window.previous())
    return {
        "rates": compare(current[community.pk], previous[community.pk]),
        "series": _daily_series(org, [community.pk], window)[community.pk],
        "heatmap": heatmap(org, community, window),
        "churn": _churn_counts(org, community, window),
        "cohorts": cohorts(org, community, window.end),
        "top": top_contributors(org, community, window),
    }


def heatmap(org, community, window: Window) -> dict:
    """Messages by local weekday and hour over the window, and the busiest hour."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    rows = (
        CommunityDay.objects.for_org(org)
        .filter(community=community, day__gte=window.start, day__lte=window.end)
        .values_list("day", "hours")
    )
    for day, hours in rows:
        for hour, n in enumerate(hours or []):
            grid[day.weekday()][hour] += n
    peak = max(((n, d, h) for d, row in enumerate(grid) for h, n in enumerate(row)), default=None)
    busiest = (
        {"weekday": peak[1], "hour": peak[2], "messages": peak[0]} if peak and peak[0] else None
    )
    return {"grid": grid, "max": max(max(row) for row in grid), "busiest": busiest}


def _churn_counts(org, community, window: Window) -> tuple[list, int]:
    counts: Counter = Counter()
    removals = 0
    rows = (
        CommunityDay.objects.for_org(org)
        .filter(community=community, day__gte=window.start, day__lte=window.end)
        .values_list("leave_reasons", "removals")
    )
    for reasons, removed in rows:
        counts.update(reasons or {})
        removals += removed
    return counts.most_common(), removals


def _churn_labels(counts: list, removals: int) -> list[dict]:
    labels = dict(ChurnReason.choices)
    out = [
        {"reason": key, "label": str(labels.get(key, _("Not given"))), "count": n}
        for key, n in counts
    ]
    if removals:
        out.append({"reason": "removed", "label": _("Removed by the group"), "count": removals})
    return out


def cohorts(org, community, last_day, weeks: int = COHORT_WEEKS) -> list[dict]:
    """Join-week cohorts (local weeks from Monday): of the members who joined in a week, the
    share active (posted, checked in, shared or bought) in each following week."""
    this_monday = last_day - timedelta(days=last_day.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    rows = (
        CommunityDay.objects.for_org(org)
        .filter(community=community, day__gte=first_monday, day__lte=last_day)
        .values_list("day", "joined_ids", "active_ids")
    )
    joined = defaultdict(BitMap64)
    active = defaultdict(BitMap64)
    for day, joined_ids, active_ids in rows:
        week = (day - first_monday).days // 7
        if joined_ids:
            joined[week] |= BitMap64.deserialize(bytes(joined_ids))
        if active_ids:
            active[week] |= BitMap64.deserialize(bytes(active_ids))
    out = []
    for week in range(weeks):
        cohort = joined[week]
        retention = []
        for later in range(week + 1, weeks):
            kept = len(cohort & active[later])
            retention.append(kept / len(cohort) if cohort else None)
        out.append(
            {
                "week_start": first_monday + timedelta(weeks=week),
                "size": len(cohort),
                "retention": retention,  # week 1, 2, ... after joining
            }
        )
    return out


def dormancy(org, community, window: Window) -> dict:
    """Dormant now, and reactivated or reminded in the window: three index counts in one
    statement (one aggregate with filters would read every membership of the group; the ORM's
    three subqueries cost more to build than to run)."""
    start, end = day_bounds(org, window.start, window.end)
    params = {"org": org.pk, "community": community.pk, "start": start, "end": end}
    with org_hint(org.pk), connection.cursor() as cursor:
        cursor.execute(DORMANCY_SQL, {**params, "dormant": MembershipStatus.DORMANT.value})
        dormant, reactivated, reminded = cursor.fetchone()
    return {"dormant": dormant, "reactivated": reactivated, "reminded": reminded}


_MEMBERSHIPS = (
    f"FROM {Membership._meta.db_table} "
    "WHERE organization_id = %(org)s AND community_id = %(community)s AND "
)
DORMANCY_SQL = (
    f"SELECT (SELECT count(*) {_MEMBERSHIPS} status = %(dormant)s), "
    f"(SELECT count(*) {_MEMBERSHIPS} reactivated_at >= %(start)s AND reactivated_at < %(end)s), "
    f"(SELECT count(*) {_MEMBERSHIPS} last_reminded_at >= %(start)s "
    "AND last_reminded_at < %(end)s)"
)


def top_contributors(org, community, window: Window, limit=10, with_spend=True) -> list[dict]:
    """The window's top contributors: kept by the refresh job for the last 7, 30 and 90 days,
    summed from the member-days for any other window."""
    rows = [dict(r) for r in read_or_compute(org, community, window)[:limit]]
    if not with_spend:
        for r in rows:
            r.pop("spend", None)
    return rows


def campaign_reviews(org, community, window: Window, limit=5) -> list[dict]:

    start, end = day_bounds(org, window.start, window.end)
    campaigns = (
        Campaign.objects.for_org(org)
        .filter(targets__community=community, starts_at__lt=end, ends_at__gte=start)
        .exclude(status__in=[CampaignStatus.DRAFT, CampaignStatus.CANCELLED])
        .select_related("product")
        .order_by("-starts_at")
        .distinct()[:limit]
    )
    return [campaign_review(c) for c in campaigns]


def activity_heatmap(*, org, community, weeks) -> list[list[int]]:
    """Messages per hour of the week over the last `weeks` weeks (registered on
    `communities.hooks.activity_heatmap` for the content calendar)."""
    window = last_days(org, weeks * 7)
    return page_cache.cached(
        org.pk,
        "heatmap",
        (community.pk, window.key),
        lambda: heatmap(org, community, window)["grid"],
    )
