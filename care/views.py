"""Dashboard pages of member care: the queue (mine, unassigned, overdue, all open, closed),
a case with its timeline and next step, opening a case by hand, follow-ups, settings."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from campaigns.models import Order
from communities.models import StaffAssignment
from communities.selectors import communities_where
from core.views import ServiceActionView
from members.selectors import member_for
from tenancy.mixins import OrgViewMixin
from tenancy.models import OrgMembership
from tenancy.permissions import can

from . import followups, services
from .forms import (
    AssignForm,
    CareSettingsForm,
    CaseCreateForm,
    CommentForm,
    FinishForm,
    GroupKeywordsForm,
    ReopenForm,
    RuleForm,
    StepForm,
)
from .models import CaseStatus, CommunityKeywords, FollowUpRule, FollowUpStatus, Resolution
from .selectors import (
    QUEUES,
    case_for,
    follow_up_for,
    queue,
    queue_counts,
    timeline,
    visible_follow_ups,
)

PAGE = 50


def _int(value):
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 19 else None


class CaseQueueView(OrgViewMixin, View):
    capability_anywhere = "care.view"

    def get(self, request, org_slug):
        name = request.GET.get("queue")
        if name not in QUEUES:
            name = "mine" if self.actor.user is not None else "open"
        groups = communities_where(self.actor, "care.view").order_by("name")
        community_id = _int(request.GET.get("community"))
        cases = queue(self.actor, name, community_id).select_related(
            "member", "community", "assignee"
        )
        page = Paginator(cases, PAGE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "queue": name,
            "queues": QUEUES,
            "counts": queue_counts(self.actor),
            "communities": groups,
            "community_id": community_id,
            "now": timezone.now(),
            "may_open": services.may_open_cases(self.actor),
        }
        template = "care/partials/case_table.html" if request.htmx else "care/queue.html"
        return render(request, template, context)


def _people(org, community):
    """(user id, name) of everyone who may handle the group's cases."""
    memberships = OrgMembership.objects.for_org(org).filter(is_active=True).select_related("user")
    org_wide = [m for m in memberships if m.role in ("owner", "manager")]
    staff_ids = set()
    if community is not None:
        staff_ids = set(
            StaffAssignment.objects.for_org(org)
            .filter(community=community, ended_at=None, role__in=services.ASSIGNEE_ORDER)
            .values_list("user_id", flat=True)
        )
    people = [m for m in memberships if m.user_id in staff_ids] + org_wide
    seen, rows = set(), []
    for m in people:
        if m.user_id not in seen and services.may_handle(org, m.user, community):
            seen.add(m.user_id)
            rows.append((m.user_id, str(m.user)))
    return rows


class CaseDetailView(OrgViewMixin, View):
    capability_anywhere = "care.view"

    def get(self, request, org_slug, pk):
        case = case_for(self.actor, pk)
        may_handle = (
            can(self.actor, "care.manage", case.community)
            if case.community
            else can(self.actor, "care.manage")
        )
        context = {
            "case": case,
            "timeline": timeline(case),
            "may_handle": may_handle,
            "next_step": case.next_step,
            "next_label": CaseStatus(case.next_step).label if case.next_step else "",
            "steps": [s for s in CaseStatus if s != CaseStatus.OPEN],
            "step_form": StepForm(),
            "comment_form": CommentForm(),
            "assign_form": AssignForm(
                initial={"assignee": case.assignee_id, "priority": case.priority},
                people=_people(self.organization, case.community),
            )
            if may_handle
            else None,
            "resolutions": Resolution.choices,
            "may_reopen": may_handle and case.status in services.REOPENABLE,
            "now": timezone.now(),
        }
        return render(request, "care/case_detail.html", context)


class CaseActionView(OrgViewMixin, ServiceActionView):
    """step / comment / assign / reopen (POST), checked in the case's group."""

    visibility_capability = "care.view"
    success_message = gettext_lazy("Saved.")

    @classmethod
    def community_capability_for(cls, action=None):
        return "care.manage"

    def get_object(self):
        case = case_for(self.actor, self.kwargs["pk"])
        if case.community is not None:
            allowed = can(self.actor, "care.manage", case.community)
        else:
            allowed = can(self.actor, "care.manage")
        if not allowed:
            raise PermissionDenied
        return case

    def perform(self, form):
        getattr(self, "_" + self.kwargs["action"])(self.request, self.object)

    def get_success_url(self, result):
        return resolve_url("care-case", org_slug=self.kwargs["org_slug"], pk=self.object.pk)

    def _step(self, request, case):
        form = StepForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Check the note and the resolution."))
        services.case_step(
            actor=self.actor, case=case, step=request.POST.get("step", ""), **form.cleaned_data
        )

    def _comment(self, request, case):
        form = CommentForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Write a comment of at most 2000 characters."))
        services.case_comment(actor=self.actor, case=case, text=form.cleaned_data["text"])

    def _reopen(self, request, case):
        form = ReopenForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Say why the case is reopened (at most 2000 characters)."))
        services.case_reopen(actor=self.actor, case=case, reason=form.cleaned_data["reason"])

    def _assign(self, request, case):
        people = _people(self.organization, case.community)
        form = AssignForm(request.POST, people=people)
        if not form.is_valid():
            raise ValidationError(_("Choose someone who may handle this group's cases."))
        user_id = form.cleaned_data["assignee"]
        assignee = None
        if user_id is not None:
            assignee = (
                OrgMembership.objects.for_org(self.organization)
                .select_related("user")
                .get(user_id=user_id)
                .user
            )
        services.case_assign(
            actor=self.actor, case=case, assignee=assignee, priority=form.cleaned_data["priority"]
        )


class CaseCreateView(OrgViewMixin, ServiceActionView):
    """Open a case by hand, from a member's page (?member=) or an order (?order=)."""

    capability_anywhere = "care.manage"
    success_message = gettext_lazy("Case opened.")
    permission_denied_message = gettext_lazy("You may not open cases for that group.")

    def _form(self, data=None, member=None, order=None):
        orders, groups = [], []
        if member is not None:
            orders = [
                (o.pk, f"{o.external_order_id} · ¥{o.amount} · {o.get_status_display()}")
                for o in Order.objects.for_org(self.organization)
                .filter(member=member)
                .order_by("-placed_at")[:20]
            ]
        groups = [
            (c.pk, c.name)
            for c in communities_where(self.actor, "care.manage")
            .filter(status="active")
            .order_by("name")[:200]
        ]
        initial = {"member": member.pk if member else None, "order": order.pk if order else None}
        if order is not None and order.community_id:
            initial["community"] = order.community_id
        return CaseCreateForm(data, initial=initial, orders=orders, communities=groups)

    def _member_and_order(self, params):
        order = None
        order_id = _int(params.get("order"))
        if order_id:
            order = (
                Order.objects.for_org(self.organization)
                .filter(pk=order_id)
                .select_related("community")
                .first()
            )
        member_id = _int(params.get("member")) or (order.member_id if order else None)
        member = None
        if member_id:
            try:
                member = member_for(self.actor, member_id)
            except Http404:
                member = None
        if order is not None and (member is None or order.member_id != member.pk):
            order = None
        return member, order

    def get(self, request, org_slug, form=None, status=200):
        member, order = self._member_and_order(request.GET)
        context = {"form": form or self._form(member=member, order=order), "member": member}
        return render(request, "care/case_create.html", context, status=status)

    def get_object(self):
        member, _order = self._member_and_order(self.request.POST)
        return member

    def get_form(self):
        return self._form(self.request.POST, member=self.object)

    def perform(self, form):
        data, member = form.cleaned_data, self.object
        if member is None:
            raise ValidationError({"member": [_("No such member.")]})
        order = (
            Order.objects.for_org(self.organization).filter(pk=data["order"], member=member).first()
            if data["order"]
            else None
        )
        community = (
            communities_where(self.actor, "care.manage").filter(pk=data["community"]).first()
            if data["community"]
            else None
        )
        return services.case_open(
            actor=self.actor,
            member=member,
            kind=data["kind"],
            priority=data["priority"],
            subject=data["subject"],
            text=data["text"],
            order=order,
            community=community,
        )

    def success_response(self, case):
        return redirect("care-case", org_slug=self.kwargs["org_slug"], pk=case.pk)


class FollowUpListView(OrgViewMixin, View):
    capability_anywhere = "care.view"

    def get(self, request, org_slug):
        status = request.GET.get("status")
        if status not in FollowUpStatus.values:
            status = FollowUpStatus.OPEN
        tasks = (
            visible_follow_ups(self.actor)
            .filter(status=status)
            .select_related("rule", "order", "member", "community", "assignee", "case")
            .order_by("due_at", "pk")
        )
        if request.GET.get("mine") == "1" and self.actor.user is not None:
            tasks = tasks.filter(assignee=self.actor.user)
        page = Paginator(tasks, PAGE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "status": status,
            "statuses": FollowUpStatus.choices,
            "finish_form": FinishForm(),
        }
        return render(request, "care/follow_ups.html", context)


class FollowUpFinishView(OrgViewMixin, ServiceActionView):
    visibility_capability = "care.view"
    success_message = gettext_lazy("Saved.")

    @classmethod
    def community_capability_for(cls, action=None):
        return "care.manage"

    def get_object(self):
        task = follow_up_for(self.actor, self.kwargs["pk"])
        if task.community is not None:
            allowed = can(self.actor, "care.manage", task.community)
        else:
            allowed = can(self.actor, "care.manage")
        if not allowed:
            raise PermissionDenied
        return task

    def perform(self, form):
        form = FinishForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(_("Use at most 500 characters."))
        return followups.follow_up_finish(
            actor=self.actor, task=self.object, outcome=self.kwargs["outcome"], **form.cleaned_data
        )

    def get_success_url(self, task):
        """The case the follow-up belongs to, if any; else (and after an error) the list."""
        org_slug = self.kwargs["org_slug"]
        if task is not None and task.case_id:
            return resolve_url("care-case", org_slug=org_slug, pk=task.case_id)
        return resolve_url("care-follow-ups", org_slug=org_slug)


class CareSettingsView(OrgViewMixin, ServiceActionView):
    """The SLA, service hours and keywords; group keywords; follow-up rules."""

    capability = "care.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "care-settings"
    success_url_kwargs = ("org_slug",)

    def _groups(self):
        return [
            (c.pk, c.name)
            for c in communities_where(self.actor, "care.manage")
            .filter(status="active")
            .order_by("name")[:500]
        ]

    def get(self, request, org_slug, forms=None, status=200):
        settings = services.settings_for(self.organization)
        forms = forms or {}
        groups = self._groups()
        context = {
            "settings_form": forms.get("settings")
            or CareSettingsForm(
                initial={
                    "first_response_minutes": settings.first_response_minutes,
                    "service_start": settings.service_start,
                    "service_end": settings.service_end,
                    "complaint_keywords": ", ".join(settings.complaint_keywords),
                }
            ),
            "keywords_form": forms.get("keywords") or GroupKeywordsForm(communities=groups),
            "rule_form": forms.get("rule") or RuleForm(communities=groups),
            "group_keywords": CommunityKeywords.objects.for_org(self.organization)
            .select_related("community")
            .order_by("community__name")[:200],
            "rules": FollowUpRule.objects.for_org(self.organization)
            .select_related("community")
            .order_by("-is_active", "name")[:200],
        }
        return render(request, "care/settings.html", context, status=status)

    @property
    def which(self) -> str:
        """The form the POST is for."""
        which = self.request.POST.get("form")
        return which if which in ("keywords", "rule") else "settings"

    def get_form(self):
        if self.which == "keywords":
            return GroupKeywordsForm(self.request.POST, communities=self._groups())
        if self.which == "rule":
            return RuleForm(self.request.POST, communities=self._groups())
        return CareSettingsForm(self.request.POST)

    def form_invalid(self, form):
        return self.get(
            self.request, *self.args, forms={self.which: form}, status=400, **self.kwargs
        )

    def perform(self, form):
        self._save(self.which, form.cleaned_data)

    def _save(self, which, data):
        groups = communities_where(self.actor, "care.manage")
        if which == "settings":
            services.care_settings_update(actor=self.actor, **data)
        elif which == "keywords":
            community = groups.filter(pk=data["community"]).first()
            if community is None:
                raise ValidationError({"community": [_("No such group.")]})
            services.community_keywords_set(
                actor=self.actor,
                community=community,
                keywords=data["keywords"],
                inherit=data["inherit"],
            )
        else:
            community_id = data.pop("community")
            community = groups.filter(pk=community_id).first() if community_id else None
            if community_id and community is None:
                raise ValidationError({"community": [_("No such group.")]})
            followups.rule_create(actor=self.actor, community=community, **data)


class RuleToggleView(OrgViewMixin, ServiceActionView):
    capability = "care.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "care-settings"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(FollowUpRule, pk=self.kwargs["pk"])

    def perform(self, form):
        followups.rule_set_active(
            actor=self.actor, rule=self.object, active=not self.object.is_active
        )
