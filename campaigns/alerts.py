"""What campaigns tell staff through the bell and email (tenancy/notify.py), from a scan that
beat runs every few minutes (`campaigns.tasks.alert_staff`):

- `campaigns.team_failing`: a group-buy team still short of members closes within
  `team_lead(campaign)`; told to whoever runs the campaign: its creator and the staff of its
  groups who may manage campaigns (owners and managers when there is nobody else);
- `campaigns.budget_near` / `campaigns.budget_over`: the month's campaign costs are within
  `NEAR_SHARE` of the monthly budget, or over it (`selectors.budget_warning`), this month or
  next (campaigns are planned ahead); told to the owners and managers.

Each is keyed by the team or the month, so each is said once per person.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import StaffAssignment
from core.formatting import money
from tenancy import notify
from tenancy.permissions import COMMUNITY_ROLE_CAPABILITIES

from .models import CampaignTarget, Team, TeamMember, TeamStatus
from .selectors import budget_warning

TEAM_FAILING = "campaigns.team_failing"
BUDGET_NEAR = "campaigns.budget_near"
BUDGET_OVER = "campaigns.budget_over"
TEAM_LEAD = timedelta(hours=1)
NEAR_SHARE = Decimal("0.1")  # "about to be exceeded": the next tenth of the budget would do it
MAX_TEAMS = 500


def register() -> None:
    notify.register_kind(
        TEAM_FAILING,
        label=gettext_lazy("A group-buy team is about to fail"),
        render=lambda p, org: (
            _(
                "A team of %(campaign)s has %(joined)s of %(size)s members and fails at %(deadline)s "
                "unless it fills."
            )
            % {
                "campaign": p["campaign"],
                "joined": p["joined"],
                "size": p["size"],
                "deadline": notify.local_time(p["deadline"], org),
            }
        ),
        order=30,
    )
    notify.register_kind(
        BUDGET_NEAR,
        label=gettext_lazy("The monthly campaign budget is about to be exceeded"),
        render=lambda p, org: (
            _("Campaigns of %(month)s already cost %(spent)s of the %(budget)s budget.")
            % _budget_values(p)
        ),
        order=40,
    )
    notify.register_kind(
        BUDGET_OVER,
        label=gettext_lazy("The monthly campaign budget is exceeded"),
        render=lambda p, org: (
            _("Campaigns of %(month)s cost %(spent)s, over the %(budget)s budget.")
            % _budget_values(p)
        ),
        order=41,
    )


def _budget_values(params) -> dict:
    return {
        "month": params["month"],
        "spent": money(params["spent"]),
        "budget": money(params["budget"]),
    }


def team_lead(campaign) -> timedelta:
    """An hour before the deadline, or half the time to fill a team when that is shorter."""
    return min(TEAM_LEAD, timedelta(hours=campaign.team_hours or 24) / 2)


def _campaign_people(org, campaign_ids) -> dict:
    """{campaign id: {user id}}: the creator, and the staff of its groups whose roles may
    manage campaigns (one query for the assignments)."""
    roles = [r for r, caps in COMMUNITY_ROLE_CAPABILITIES.items() if "campaign.manage" in caps]
    groups: dict = {}
    for campaign_id, community_id in (
        CampaignTarget.objects.for_org(org)
        .filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "community_id")
    ):
        groups.setdefault(community_id, set()).add(campaign_id)
    people: dict = {campaign_id: set() for campaign_id in campaign_ids}
    for community_id, user_id in (
        StaffAssignment.objects.for_org(org)
        .filter(community_id__in=groups, ended_at=None, role__in=roles)
        .values_list("community_id", "user_id")
    ):
        for campaign_id in groups[community_id]:
            people[campaign_id].add(user_id)
    return people


def alert_failing_teams(org, now=None) -> int:
    now = now or timezone.now()
    teams = list(
        Team.objects.for_org(org)
        .filter(status=TeamStatus.OPEN, deadline__gt=now, deadline__lte=now + TEAM_LEAD)
        .select_related("campaign")
        .order_by("deadline", "pk")[:MAX_TEAMS]
    )
    teams = [t for t in teams if t.deadline <= now + team_lead(t.campaign)]
    if not teams:
        return 0
    joined = dict(
        TeamMember.objects.for_org(org)
        .filter(team__in=teams)
        .values("team_id")
        .annotate(n=Count("pk"))
        .values_list("team_id", "n")
    )
    short = [t for t in teams if joined.get(t.pk, 0) < (t.campaign.team_size or 0)]
    if not short:
        return 0
    people = _campaign_people(org, {t.campaign_id for t in short})
    fallback = None
    notices = []
    for team in short:
        campaign = team.campaign
        users = set(people.get(campaign.pk, set()))
        if campaign.created_by_id:
            users.add(campaign.created_by_id)
        if not users:
            fallback = (
                fallback if fallback is not None else notify.people_with(org, "campaign.manage")
            )
            users = set(fallback)
        notices.append(
            notify.Notice(
                user_ids=sorted(users),
                kind=TEAM_FAILING,
                key=f"team:{team.pk}:failing",
                params={
                    "campaign": campaign.name,
                    "joined": joined.get(team.pk, 0),
                    "size": campaign.team_size,
                    "deadline": team.deadline.isoformat(),
                },
                url=reverse("campaign-live", kwargs={"org_slug": org.slug, "pk": campaign.pk}),
            )
        )
    return notify.notify_many(org, notices)


def alert_budget(org, now=None) -> int:
    """This month's and next month's costs against the monthly budget."""
    budget = org.monthly_campaign_budget
    if budget is None:
        return 0
    local = (now or timezone.now()).astimezone(org.tzinfo)
    this_month = local.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    notices = []
    for month in (this_month, next_month):
        over = budget_warning(org, month)
        near = over or budget_warning(org, month, extra_cost=budget * NEAR_SHARE)
        if not near:
            continue
        label = month.strftime("%Y-%m")
        notices.append(
            notify.Notice(
                user_ids=[],  # filled below, once
                kind=BUDGET_OVER if over else BUDGET_NEAR,
                key=f"budget:{label}:{'over' if over else 'near'}",
                params={"month": label, "spent": str(near["spent"]), "budget": str(budget)},
                url=reverse("campaigns", kwargs={"org_slug": org.slug}),
            )
        )
    if not notices:
        return 0
    people = notify.people_with(org, "campaign.manage")
    for notice in notices:
        notice.user_ids = people
    return notify.notify_many(org, notices)


def alert_staff(org, now=None) -> int:
    return alert_failing_teams(org, now) + alert_budget(org, now)
