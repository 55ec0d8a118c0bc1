"""Award nominees from the month's data (seed 002 §2.3: 每月评选"最佳服务奖""最佳活跃奖").

- best_service (staff): member care's record of the month (care.selectors.service_by_staff):
  cases resolved plus after-sales follow-ups done, then the faster median first response,
  then more first responses. Nominated: someone who resolved or followed up at least once.
- best_activity (members, in each active group): the days of the month the member was active
  in the group (posted, checked in, shared or bought: the metrics' member-days), then what
  they did on them (messages + check-ins + shares). Nominated: members still in the group.
- top_sales (staff): the month's commission (metrics.staff: the ladder on the revenue credited
  to each group's lead, docs/commission.md), then credited revenue, then orders. Nominated:
  someone credited with revenue.

Ties end on the lower id, so the same data always gives the same nominees. Only people still
active in the organization are nominated.
"""

from __future__ import annotations

from datetime import date

from care.selectors import service_by_staff
from communities.models import Community, CommunityStatus
from members.models import PRESENT_STATUSES, Membership
from metrics.days import day_bounds
from metrics.figures import member_activity
from metrics.staff import month_window, staff_performance
from tenancy.models import OrgMembership

from ..models import AwardKind

NOMINEES = 3
INFINITY = float("inf")


def active_people(org) -> set[int]:
    return set(
        OrgMembership.objects.for_org(org).filter(is_active=True).values_list("user_id", flat=True)
    )


def best_service(org, month: date, limit=NOMINEES) -> list[dict]:
    window = month_window(month)
    start, end = day_bounds(org, window.start, window.end)
    people = active_people(org)
    rows = []
    for user_id, s in service_by_staff(org, start=start, end=end).items():
        handled = s["resolved"] + s["follow_ups"]
        if user_id not in people or handled < 1:
            continue
        median = s["median_first_response_seconds"]
        key = (-handled, INFINITY if median is None else median, -s["responded"], user_id)
        rows.append((key, {"user_id": user_id, "figures": {**s, "handled": handled}}))
    rows.sort(key=lambda r: r[0])
    return [r for _key, r in rows[:limit]]


def best_activity(org, month: date, limit=NOMINEES) -> dict[int, list[dict]]:
    """{community id: nominees} for every active group with any."""
    window = month_window(month)
    groups = list(
        Community.objects.for_org(org)
        .filter(status=CommunityStatus.ACTIVE)
        .values_list("pk", flat=True)
    )
    activity = member_activity(org, groups, window)
    present = set(
        Membership.objects.for_org(org)
        .filter(
            community_id__in=groups,
            status__in=PRESENT_STATUSES,
            member__erased_at=None,
            member__merged_into=None,
        )
        .values_list("community_id", "member_id")
    )
    by_group: dict[int, list] = {}
    for (community_id, member_id), a in activity.items():
        if (community_id, member_id) not in present:
            continue
        actions = a["messages"] + a["checkins"] + a["shares"]
        key = (-a["days"], -actions, member_id)
        by_group.setdefault(community_id, []).append(
            (key, {"member_id": member_id, "figures": {**a, "actions": actions}})
        )
    return {
        community_id: [r for _key, r in sorted(rows, key=lambda r: r[0])[:limit]]
        for community_id, rows in by_group.items()
    }


def top_sales(org, month: date, limit=NOMINEES) -> list[dict]:
    people = active_people(org)
    rows = []
    for r in staff_performance(org, month)["rows"]:
        if r["user_id"] not in people or r["revenue"] <= 0:
            continue
        key = (-r["commission"], -r["revenue"], -r["orders"], r["user_id"])
        figures = {
            "orders": r["orders"],
            "revenue": str(r["revenue"]),
            "commission": str(r["commission"]),
            "commission_percent": str(r["commission_percent"]),
        }
        rows.append((key, {"user_id": r["user_id"], "figures": figures}))
    rows.sort(key=lambda r: r[0])
    return [r for _key, r in rows[:limit]]


def nominees(org, month: date) -> list[dict]:
    """Every award's nominees as rows: award, community_id, rank, user_id or member_id,
    figures."""
    out = []
    for award, found in (
        (AwardKind.BEST_SERVICE, best_service(org, month)),
        (AwardKind.TOP_SALES, top_sales(org, month)),
    ):
        for rank, row in enumerate(found, start=1):
            out.append({"award": award, "community_id": None, "rank": rank, **row})
    for community_id, found in sorted(best_activity(org, month).items()):
        for rank, row in enumerate(found, start=1):
            out.append(
                {
                    "award": AwardKind.BEST_ACTIVITY,
                    "community_id": community_id,
                    "rank": rank,
                    **row,
                }
            )
    return out
