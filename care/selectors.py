"""Reads of member care: what an actor may see, the queues, the overview counts and the
response-time medians for the staff performance page."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.selectors import communities_where
from tenancy.home import TodayItem, TodaySection, first_of
from tenancy.permissions import can, can_anywhere

from .models import NOT_CLOSED, Case, CaseStatus, FollowUpStatus, FollowUpTask

OVERVIEW_DAYS = 30


def visible_cases(actor):
    """Every case for org-wide viewers (care.view); a staff member's groups' cases for the
    rest (a deputy sees only the cases of their groups; cases with no group are org-wide)."""
    qs = Case.objects.for_org(actor.organization)
    if can(actor, "care.view"):
        return qs
    return qs.filter(community__in=communities_where(actor, "care.view"))


def case_for(actor, pk) -> Case:
    try:
        return (
            visible_cases(actor)
            .select_related("member", "community", "order", "assignee", "responded_by")
            .get(pk=pk)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def overdue_q(now=None) -> Q:
    return Q(responded_at=None, first_response_due_at__lt=now or timezone.now()) & ~Q(
        status=CaseStatus.CLOSED
    )


QUEUES = ["mine", "unassigned", "overdue", "open", "closed"]


def queue(actor, name: str, community_id=None):
    """One of the queues: mine, unassigned, overdue, open (all not closed), closed."""
    qs = visible_cases(actor)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if name == "mine":
        qs = qs.filter(assignee=actor.user, status__in=NOT_CLOSED)
    elif name == "unassigned":
        qs = qs.filter(assignee=None, status__in=NOT_CLOSED)
    elif name == "overdue":
        qs = qs.filter(overdue_q())
    elif name == "closed":
        return qs.filter(status=CaseStatus.CLOSED).order_by("-closed_at", "-pk")
    else:
        qs = qs.filter(status__in=NOT_CLOSED)
    return qs.order_by("first_response_due_at", "pk")


def queue_counts(actor) -> dict:
    """{queue: count} for the tabs, in one query."""
    qs = visible_cases(actor)
    user = actor.user
    counts = qs.aggregate(
        open=Count("pk", filter=Q(status__in=NOT_CLOSED)),
        mine=Count("pk", filter=Q(status__in=NOT_CLOSED, assignee=user))
        if user is not None
        else Count("pk", filter=Q(pk=None)),
        unassigned=Count("pk", filter=Q(status__in=NOT_CLOSED, assignee=None)),
        overdue=Count("pk", filter=overdue_q()),
    )
    return counts


def my_open_count(actor) -> int:
    """Open cases assigned to the signed-in person (the nav badge)."""
    if actor is None or actor.user is None:
        return 0
    return visible_cases(actor).filter(assignee=actor.user, status__in=NOT_CLOSED).count()


def _seconds(later, earlier):
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def _median(values):
    values = [v for v in values if v is not None]
    return float(median(values)) if values else None


def _summary(rows) -> dict:
    return {
        "median_first_response_seconds": _median(r[0] for r in rows),
        "median_resolution_seconds": _median(r[1] for r in rows),
        "cases": len(rows),
    }


def response_times(org, *, start, end, community_ids=None) -> dict:
    """Median first-response and resolution times of the cases opened in [start, end).

    `start`, `end`: aware datetimes. `community_ids`: only these groups (None: every case,
    also those with no group, which then count in `by_staff` only). Returns::

        {"by_community": {community_id: {"median_first_response_seconds": float | None,
                                         "median_resolution_seconds": float | None,
                                         "cases": int}},
         "by_staff": {user_id: {same keys}}}

    First response: from when the SLA clock started (the case's opening, or the next start of
    the service hours) to the "responded" step. Resolution: from the same start to the
    "resolved" step. A median is None when no case of the row got that far. `by_community`
    counts every case of the group; `by_staff` credits the first response to the person who
    responded and the resolution to the person who resolved (cases answered by an API key or
    not yet answered count for nobody), and `cases` there is the number of cases that person
    responded to or resolved.
    """
    qs = Case.objects.for_org(org).filter(opened_at__gte=start, opened_at__lt=end)
    if community_ids is not None:
        qs = qs.filter(community_id__in=list(community_ids))
    rows = qs.values_list(
        "community_id",
        "responded_by_id",
        "resolved_by_id",
        "clock_started_at",
        "responded_at",
        "resolved_at",
    )
    by_community: dict = {}
    by_staff: dict = {}
    for community_id, responder, resolver, started, responded, resolved in rows.iterator():
        first = _seconds(responded, started)
        resolution = _seconds(resolved, started)
        if community_id is not None:
            by_community.setdefault(community_id, []).append((first, resolution))
        if responder is not None:
            by_staff.setdefault(responder, {}).setdefault("first", []).append(first)
        if resolver is not None:
            by_staff.setdefault(resolver, {}).setdefault("resolution", []).append(resolution)
    staff = {}
    for user_id, parts in by_staff.items():
        staff[user_id] = {
            "median_first_response_seconds": _median(parts.get("first", [])),
            "median_resolution_seconds": _median(parts.get("resolution", [])),
            "cases": max(len(parts.get("first", [])), len(parts.get("resolution", []))),
        }
    return {
        "by_community": {cid: _summary(r) for cid, r in by_community.items()},
        "by_staff": staff,
    }


def overview_counts(actor) -> dict:
    """For the org overview (and the metrics overview): open and overdue cases the actor may
    see, open follow-ups, and the median first-response time of the last 30 days."""
    counts = queue_counts(actor)
    since = timezone.now() - timedelta(days=OVERVIEW_DAYS)
    firsts = [
        _seconds(responded, started)
        for started, responded in visible_cases(actor)
        .filter(opened_at__gte=since, responded_at__isnull=False)
        .values_list("clock_started_at", "responded_at")
    ]
    return {
        **counts,
        "follow_ups": visible_follow_ups(actor).filter(status=FollowUpStatus.OPEN).count(),
        "median_first_response_seconds": _median(firsts),
        "days": OVERVIEW_DAYS,
    }


def visible_follow_ups(actor):
    qs = FollowUpTask.objects.for_org(actor.organization)
    if can(actor, "care.view"):
        return qs
    return qs.filter(community__in=communities_where(actor, "care.view"))


def follow_up_for(actor, pk) -> FollowUpTask:
    try:
        return (
            visible_follow_ups(actor)
            .select_related("rule", "order", "member", "community", "assignee")
            .get(pk=pk)
        )
    except (FollowUpTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def timeline(case):
    return case.events.select_related("actor_user").order_by("created_at", "pk")


def home_panel(*, actor) -> dict:
    """Member care's counts and the cases waiting for a first response on the organization's
    home (registered on `tenancy.hooks.dashboard_panels`)."""
    if not can_anywhere(actor, "care.view"):
        return {"care_counts": None}
    return {"care_counts": overview_counts(actor), "today": [cases_to_answer(actor)]}


def cases_to_answer(actor) -> TodaySection:
    """Complaints and after-sales cases nobody has answered yet, overdue first, then the ones
    due soonest: every case the actor may see (a deputy: their groups'). Two queries."""
    org_slug = actor.organization.slug
    rows, total = first_of(
        visible_cases(actor)
        .filter(responded_at=None)
        .exclude(status=CaseStatus.CLOSED)
        .select_related("member", "community", "assignee"),
        "first_response_due_at",
        "pk",
    )
    items = []
    for case in rows:
        who = case.assignee.get_short_name() if case.assignee else _("unassigned")
        group = case.community.name if case.community else _("no group")
        items.append(
            TodayItem(
                title=case.subject,
                url=reverse("care-case", args=[org_slug, case.pk]),
                meta=f"{case.member} · {group} · {who}",
                deadline=case.first_response_due_at,
            )
        )
    return TodaySection(
        key="cases",
        title=_("Complaints to answer"),
        count=total,
        items=items,
        url=reverse("care", args=[org_slug]) + "?queue=open",
        order=10,
    )


def service_by_staff(org, *, start, end) -> dict:
    """What each person did for members in [start, end) (aware datetimes), for the monthly
    best-service award::

        {user_id: {"responded": cases first answered by them in the period,
                   "median_first_response_seconds": float | None (of those cases),
                   "resolved": cases resolved by them in the period,
                   "follow_ups": after-sales follow-ups they finished as done in the period}}

    Follow-ups record who finished them by their sign-in email (`done_by_label`)."""
    from tenancy.models import User

    people: dict = {}

    def row(user_id):
        return people.setdefault(
            user_id, {"responded": 0, "first": [], "resolved": 0, "follow_ups": 0}
        )

    cases = Case.objects.for_org(org)
    for user_id, started, responded in cases.filter(
        responded_by__isnull=False, responded_at__gte=start, responded_at__lt=end
    ).values_list("responded_by_id", "clock_started_at", "responded_at"):
        row(user_id)["responded"] += 1
        row(user_id)["first"].append(_seconds(responded, started))
    for (user_id,) in cases.filter(
        resolved_by__isnull=False, resolved_at__gte=start, resolved_at__lt=end
    ).values_list("resolved_by_id"):
        row(user_id)["resolved"] += 1
    done = (
        FollowUpTask.objects.for_org(org)
        .filter(status=FollowUpStatus.DONE, done_at__gte=start, done_at__lt=end)
        .values("done_by_label")
        .annotate(n=Count("pk"))
        .values_list("done_by_label", "n")
        .order_by()
    )
    done = dict(done)
    if done:
        for user_id, email in User.objects.filter(email__in=list(done)).values_list("pk", "email"):
            row(user_id)["follow_ups"] += done[email]
    return {
        user_id: {
            "responded": r["responded"],
            "median_first_response_seconds": _median(r["first"]),
            "resolved": r["resolved"],
            "follow_ups": r["follow_ups"],
        }
        for user_id, r in people.items()
    }
