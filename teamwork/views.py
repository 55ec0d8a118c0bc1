"""Dashboard pages of the team side: the week against the duties (and the duties' setup),
goals with their progress and history, the monthly awards."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from communities.models import Community, CommunityStatus
from communities.selectors import communities_where
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.models import User
from tenancy.permissions import can

from .forms import DutyForm, GoalForm, RaiseForm, TickForm
from .models import (
    AwardKind,
    AwardRound,
    Duty,
    DutyTick,
    RoundStatus,
)
from .selectors.duties import week_board, week_people
from .selectors.goals import LIVE, goal_for, goal_progress, history, live_goals, visible_goals
from .services import awards, duties, goals
from .services.duties import TICK_DAYS_BACK
from .weeks import parse_week, today

PEOPLE_PER_PAGE = 25

# --- duties ----------------------------------------------------------------------------------


def _groups(actor, capability="community.view"):
    return [
        (c.pk, c.name)
        for c in communities_where(actor, capability)
        .filter(status=CommunityStatus.ACTIVE)
        .order_by("name")[:500]
    ]


class DutyWeekView(OrgViewMixin, View):
    """Each person's week against their duties: everyone's for those who see the team, one's
    own for the rest."""

    def get(self, request, org_slug):
        org = self.organization
        week = parse_week(org, request.GET.get("week"))
        everyone = can(self.actor, "team.view")
        people = week_people(org, week) if everyone else [self.actor.user.pk]
        page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
        board = week_board(org, week, user_ids=list(page.object_list))
        now = today(org)
        ticks = (
            DutyTick.objects.for_org(org)
            .filter(day__gte=week.start, day__lte=week.end, undone_at=None)
            .select_related("duty", "community", "user")
            .order_by("-day", "-pk")
        )
        if not can(self.actor, "team.manage"):
            ticks = ticks.filter(user=self.actor.user)
        context = {
            "week": week,
            "board": board,
            "page": page,
            "everyone": everyone,
            "is_this_week": week.start <= now <= week.end,
            "tick": True,
            "tick_days": [now - timedelta(days=n) for n in range(TICK_DAYS_BACK + 1)],
            "may_tick_others": can(self.actor, "team.manage"),
            "ticks": ticks[:100],
            "may_setup": can(self.actor, "duty.manage"),
        }
        return render(request, "teamwork/duties.html", context)


class DutySetupView(OrgViewMixin, ServiceActionView):
    capability = "duty.manage"
    success_message = gettext_lazy("Duty set.")
    success_url = "duty-setup"
    success_url_kwargs = ("org_slug",)

    def get_form(self):
        return DutyForm(self.request.POST, communities=_groups(self.actor))

    def get(self, request, org_slug, form=None, status=200):
        rows = Duty.objects.for_org(self.organization).select_related("community")
        context = {
            "active": rows.filter(is_active=True).order_by("role", "pk"),
            "retired": rows.filter(is_active=False).order_by("-retired_at")[:50],
            "form": form or DutyForm(communities=_groups(self.actor)),
        }
        return render(request, "teamwork/duty_setup.html", context, status=status)

    def perform(self, form):
        data = form.cleaned_data
        community = None
        if data["community"]:
            community = self.get_org_object(Community, pk=data["community"])
        return duties.duty_create(
            actor=self.actor,
            title=data["title"],
            role=data["role"],
            measure=data["measure"],
            period=data["period"],
            quota=data["quota"],
            community=community,
            within_hours=data["within_hours"] or 2,
        )


class DutyRetireView(OrgViewMixin, ServiceActionView):
    capability = "duty.manage"
    success_message = gettext_lazy("Duty retired.")
    success_url = "duty-setup"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(Duty, pk=self.kwargs["pk"])

    def perform(self, form):
        duties.duty_retire(actor=self.actor, duty=self.object)


class DutyTickView(OrgViewMixin, ServiceActionView):
    """Tick a duty done by hand (POST): one's own, or anyone's for those who manage the team."""

    success_message = gettext_lazy("Ticked.")
    permission_denied_message = gettext_lazy("You may tick only your own duties in your groups.")

    def get_object(self):
        return self.get_org_object(Duty, pk=self.kwargs["pk"])

    def perform(self, form):
        form = TickForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose the group, a day of the last week and how often."))
        data = form.cleaned_data
        org = self.organization
        community = Community.objects.for_org(org).filter(pk=data["community"]).first()
        user = None
        if data["user"]:
            user = User.objects.filter(
                pk=data["user"], org_memberships__organization=org, org_memberships__is_active=True
            ).first()
            if user is None:
                raise ValidationError(_("Choose someone of the team."))
        if community is None:
            raise ValidationError(_("Choose the group, a day of the last week and how often."))
        return duties.duty_tick(
            actor=self.actor,
            duty=self.object,
            community=community,
            user=user,
            day=data["day"],
            count=data["count"] or 1,
            note=data["note"],
        )

    def get_success_url(self, result):
        url = resolve_url("duties", org_slug=self.kwargs["org_slug"])
        week = self.request.POST.get("week", "")
        return f"{url}?week={week}" if week[:4].isdigit() and len(week) == 10 else url


class TickUndoView(OrgViewMixin, ServiceActionView):
    success_message = gettext_lazy("Tick taken back.")
    permission_denied_message = gettext_lazy("You may take back only your own ticks.")
    success_url = "duties"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(DutyTick, pk=self.kwargs["pk"])

    def perform(self, form):
        duties.tick_undo(actor=self.actor, tick=self.object)


# --- goals -----------------------------------------------------------------------------------


class GoalListView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "metrics.view"
    success_message = gettext_lazy("Goal set.")
    success_url = "goals"
    success_url_kwargs = ("org_slug",)

    def _form(self, data=None):
        return GoalForm(data, communities=_groups(self.actor, "metrics.view"))

    def get(self, request, org_slug, form=None, status=200):
        may_manage = can(self.actor, "goal.manage")
        closed = (
            visible_goals(self.actor)
            .exclude(status__in=LIVE)
            .select_related("community")
            .order_by("-closed_at", "-pk")[:20]
        )
        context = {
            "goals": goal_progress(self.actor, live_goals(self.actor)),
            "closed": goal_progress(self.actor, list(closed)),
            "form": (form or self._form()) if may_manage else None,
        }
        return render(request, "teamwork/goals.html", context, status=status)

    def post(self, request, *args, **kwargs):
        if not can(self.actor, "goal.manage"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_form(self):
        return self._form(self.request.POST)

    def perform(self, form):
        data = form.cleaned_data
        community = None
        if data["community"]:
            community = self.get_org_object(Community, pk=data["community"])
        return goals.goal_create(
            actor=self.actor,
            figure=data["figure"],
            target=data["target"],
            due_on=data["due_on"],
            community=community,
            loyal_days=data["loyal_days"],
            group_kind=data["group_kind"],
        )


class GoalDetailView(OrgViewMixin, ServiceActionView):
    """A goal: its progress, the goals it was raised from, and raising it once met."""

    capability_anywhere = "metrics.view"
    form_class = RaiseForm
    success_message = gettext_lazy("Goal raised.")

    def get(self, request, org_slug, pk, form=None, status=200):
        goal = goal_for(self.actor, pk)
        chain = history(goal)
        rows = goal_progress(self.actor, chain)
        (current,) = [p for p in rows if p.goal.pk == goal.pk]
        may_manage = can(self.actor, "goal.manage")
        context = {
            "p": current,
            "history": rows if len(rows) > 1 else [],
            "form": form
            if form is not None
            else (RaiseForm() if may_manage and current.reached else None),
            "may_drop": may_manage and goal.is_live,
        }
        return render(request, "teamwork/goal_detail.html", context, status=status)

    def get_object(self):
        goal = goal_for(self.actor, self.kwargs["pk"])
        if not can(self.actor, "goal.manage"):
            raise PermissionDenied
        return goal

    def perform(self, form):
        return goals.goal_raise(actor=self.actor, goal=self.object, **form.cleaned_data)

    def get_success_url(self, raised):
        return resolve_url("goal-detail", org_slug=self.kwargs["org_slug"], pk=raised.pk)

    def get_error_url(self):
        return resolve_url("goal-detail", org_slug=self.kwargs["org_slug"], pk=self.object.pk)


class GoalDropView(OrgViewMixin, ServiceActionView):
    capability = "goal.manage"
    success_message = gettext_lazy("Goal dropped.")
    success_url = "goals"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return goal_for(self.actor, self.kwargs["pk"])

    def perform(self, form):
        goals.goal_drop(actor=self.actor, goal=self.object)


# --- awards ----------------------------------------------------------------------------------


class AwardListView(OrgViewMixin, View):
    capability = "team.view"

    def get(self, request, org_slug):
        rounds = list(AwardRound.objects.for_org(self.organization).order_by("-month")[:24])
        return render(request, "teamwork/awards.html", {"rounds": rounds})


class AwardRoundView(OrgViewMixin, ServiceActionView):
    """One month's nominees; the owner picks the winners (the first nominee of each award by
    default) and confirms: the bot announces them."""

    capability = "team.view"
    success_message = gettext_lazy("Winners confirmed; the bot announces them in the groups.")

    def get(self, request, org_slug, pk, status=200):
        award_round = self.get_org_object(AwardRound, pk=pk)
        slots = []
        labels = dict(AwardKind.choices)
        for (award, community_id), nominees in awards.slots(award_round).items():
            slots.append(
                {
                    "key": awards.slot_key(award, community_id),
                    "award": award,
                    "label": labels[award],
                    "community": nominees[0].community,
                    "nominees": nominees,
                }
            )
        context = {
            "round": award_round,
            "slots": slots,
            "may_confirm": can(self.actor, "award.confirm")
            and award_round.status == RoundStatus.NOMINATED,
        }
        return render(request, "teamwork/award_round.html", context, status=status)

    def get_object(self):
        award_round = self.get_org_object(AwardRound, pk=self.kwargs["pk"])
        if not can(self.actor, "award.confirm"):
            raise PermissionDenied
        return award_round

    def perform(self, form):
        return awards.round_confirm(
            actor=self.actor, award_round=self.object, choices=self.request.POST.dict()
        )

    def get_success_url(self, result):
        return resolve_url("award-round", org_slug=self.kwargs["org_slug"], pk=self.object.pk)


class AwardRecomputeView(OrgViewMixin, ServiceActionView):
    capability = "award.confirm"
    success_message = gettext_lazy("Nominees computed again from the data as it is now.")

    def get_object(self):
        return self.get_org_object(AwardRound, pk=self.kwargs["pk"])

    def perform(self, form):
        awards.round_recompute(actor=self.actor, award_round=self.object)

    def get_success_url(self, result):
        return resolve_url("award-round", org_slug=self.kwargs["org_slug"], pk=self.object.pk)
