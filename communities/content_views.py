"""Content calendar pages: week and month views, weekly plans, one-off posts, quick edits."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.params import iso_date
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can

from . import content
from .content_forms import WEEKDAYS, PlanForm, PostEditForm, PostForm, SlotFormSet
from .models import ContentPlan, PlanSlot, PlanTarget, PostStatus, ScheduledPost
from .selectors import communities_where, visible_communities


def _posts(actor):
    return ScheduledPost.objects.for_org(actor.organization).filter(
        community__in=visible_communities(actor)
    )


def _post_for(actor, pk) -> ScheduledPost:
    try:
        return _posts(actor).select_related("community").get(pk=pk)
    except (ScheduledPost.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _draftable(actor):
    """Active groups in which the actor may draft posts."""
    return communities_where(actor, "content.draft").filter(status="active")


# Above this many groups the calendar shows one group at a time unless "all" is asked for: a
# week of every group is hundreds of posts, too many to read and slow to draw.
ALL_GROUPS_LIMIT = 50


def _calendar_group(choice: str, communities: list):
    """(the group shown, or None for all of them; whether it was chosen for the person because
    the organization has too many groups to show at once)."""
    if choice.isdigit():
        found = next((c for c in communities if c.pk == int(choice)), None)
        if found is not None:
            return found, False
    if choice == "all" or len(communities) <= ALL_GROUPS_LIMIT or not communities:
        return None, False
    return communities[0], True


class CalendarView(OrgViewMixin, View):
    capability_anywhere = "content.view"

    def get(self, request, org_slug):
        tz = self.organization.tzinfo
        anchor = iso_date(request.GET.get("date")) or timezone.now().astimezone(tz).date()
        month = request.GET.get("view") == "month"
        if month:
            first = anchor.replace(day=1)
            start = content.week_start(first)
            end = content.week_start(
                (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            ) + timedelta(days=7)
            prev_anchor = (first - timedelta(days=1)).replace(day=1)
            next_anchor = (first + timedelta(days=32)).replace(day=1)
        else:
            start = content.week_start(anchor)
            end = start + timedelta(days=7)
            prev_anchor, next_anchor = start - timedelta(days=7), start + timedelta(days=7)
        posts = (
            _posts(self.actor)
            .filter(
                scheduled_at__gte=datetime.combine(start, time.min, tzinfo=tz),
                scheduled_at__lt=datetime.combine(end, time.min, tzinfo=tz),
            )
            .select_related("community")
            .only("pk", "status", "scheduled_at", "content_type", "community__name")
        )
        communities = list(
            visible_communities(self.actor)
            .filter(status="active")
            .order_by("name")
            .only("pk", "name", "organization_id")
        )
        selected, one_at_a_time = _calendar_group(request.GET.get("community", ""), communities)
        if selected is not None:
            posts = posts.filter(community_id=selected.pk)
        by_day = {start + timedelta(days=i): [] for i in range((end - start).days)}
        for post in posts.order_by("scheduled_at"):
            by_day.setdefault(post.scheduled_at.astimezone(tz).date(), []).append(post)
        weeks = [list(by_day.items())[i : i + 7] for i in range(0, len(by_day), 7)]
        heatmap = content.activity_heatmap(self.organization, selected) if selected else None
        shown = [selected.pk] if selected else [c.pk for c in communities]
        context = {
            "weeks": weeks,
            "month": month,
            "anchor": anchor,
            "first_day": start,
            "last_day": end - timedelta(days=1),
            "prev_anchor": prev_anchor,
            "next_anchor": next_anchor,
            "communities": communities,
            "selected": selected,
            "one_at_a_time": one_at_a_time,
            "group_count": len(communities),
            "heatmap": heatmap,
            "heat_max": max((max(row) for row in heatmap), default=0) if heatmap else 0,
            "suggested": content.suggested_slot(heatmap) if heatmap else None,
            "weekday_names": [label for _v, label in WEEKDAYS],
            "overload": content.daily_overload(self.organization, shown),
            "today": timezone.now().astimezone(tz).date(),
            "can_draft": _draftable(self.actor).exists(),
        }
        template = (
            "communities/partials/calendar.html" if request.htmx else "communities/calendar.html"
        )
        return render(request, template, context)


class PlanListView(OrgViewMixin, View):
    capability_anywhere = "content.view"

    def get(self, request, org_slug):
        plans = ContentPlan.objects.for_org(self.organization).order_by("-is_active", "name")
        visible = set(visible_communities(self.actor).values_list("pk", flat=True))
        targets = {}
        for target in PlanTarget.objects.for_org(self.organization).select_related("community"):
            if target.community_id in visible:
                targets.setdefault(target.plan_id, []).append(target.community)
        slots = {}
        day_names = dict(WEEKDAYS)
        for slot in PlanSlot.objects.for_org(self.organization).filter(is_active=True):
            slot.weekday_label = day_names.get(slot.weekday, "")
            slots.setdefault(slot.plan_id, []).append(slot)
        rows = [
            {"plan": p, "groups": targets.get(p.pk, []), "slots": slots.get(p.pk, [])}
            for p in plans
            if p.pk in targets
        ]
        return render(
            request,
            "communities/plans.html",
            {"rows": rows, "can_draft": _draftable(self.actor).exists()},
        )


class PlanEditView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "content.draft"
    success_message = gettext_lazy("Plan saved; its posts are on the calendar.")
    permission_denied_message = gettext_lazy("You may not plan posts for every chosen group.")

    def _plan(self, pk):
        if pk is None:
            return None
        return self.get_org_object(ContentPlan, pk=pk)

    def _communities(self):
        return _draftable(self.actor).order_by("name")

    def get(self, request, org_slug, pk=None, form=None, formset=None, status=200):
        plan = self._plan(pk)
        if form is None:
            initial, slots = {}, [{"weekday": 0, "local_time": time(20, 0), "content_type": "tips"}]
            if plan is not None:
                initial = {
                    "name": plan.name,
                    "communities": list(
                        PlanTarget.objects.for_org(self.organization)
                        .filter(plan=plan)
                        .values_list("community_id", flat=True)
                    ),
                }
                slots = list(
                    PlanSlot.objects.for_org(self.organization)
                    .filter(plan=plan, is_active=True)
                    .values("weekday", "local_time", "content_type", "template")
                )
            form = PlanForm(initial=initial, communities=self._communities())
            formset = SlotFormSet(initial=slots + [{}] * 3, prefix="slots")
        context = {"form": form, "formset": formset, "plan": plan}
        return render(request, "communities/plan_form.html", context, status=status)

    def get_object(self):
        return self._plan(self.kwargs.get("pk"))

    def get_form(self):
        self.formset = SlotFormSet(self.request.POST, prefix="slots")
        return PlanForm(self.request.POST, communities=self._communities())

    def is_valid(self, form):
        return form.is_valid() and self.formset.is_valid()

    def form_invalid(self, form):
        return self.get(
            self.request, *self.args, form=form, formset=self.formset, status=400, **self.kwargs
        )

    def perform(self, form):
        slots = [f.cleaned_data for f in self.formset if f.cleaned_data.get("template")]
        return content.plan_save(
            actor=self.actor,
            name=form.cleaned_data["name"],
            communities=form.cleaned_data["communities"],
            slots=slots,
            plan=self.object,
        )

    def success_response(self, saved):
        for warning in content.daily_overload(self.organization):
            messages.warning(
                self.request,
                _("%(group)s has %(n)s posts on %(day)s (limit %(limit)s).")
                % {
                    "group": warning["community"],
                    "n": warning["count"],
                    "day": warning["day"],
                    "limit": warning["limit"],
                },
            )
        return redirect(f"/o/{self.kwargs['org_slug']}/calendar/?plan={saved.pk}")


class PostCreateView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "content.draft"
    success_message = gettext_lazy("Post scheduled.")
    success_url = "calendar"
    success_url_kwargs = ("org_slug",)

    def _communities(self):
        return _draftable(self.actor)

    def get(self, request, org_slug, form=None, status=200):
        form = form or PostForm(communities=self._communities())
        return render(request, "communities/post_form.html", {"form": form}, status=status)

    def get_form(self):
        return PostForm(self.request.POST, communities=self._communities())

    def perform(self, form):
        content.post_create(actor=self.actor, **form.cleaned_data)


class PostEditView(OrgViewMixin, ServiceActionView):
    """Edit, reschedule, skip or approve one occurrence."""

    capability_anywhere = "content.view"

    def get(self, request, org_slug, pk, form=None, status=200):
        post = _post_for(self.actor, pk)
        tz = self.organization.tzinfo
        form = form or PostEditForm(
            initial={
                "text": post.text,
                "scheduled_at": post.scheduled_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            }
        )
        context = {
            "post": post,
            "form": form,
            "can_edit": can(self.actor, "content.draft", post.community)
            and post.status in (PostStatus.DRAFT, PostStatus.SCHEDULED),
            "can_approve": post.status == PostStatus.DRAFT
            and can(self.actor, "content.approve", post.community),
        }
        return render(request, "communities/post_edit.html", context, status=status)

    @property
    def action(self) -> str:
        return self.request.POST.get("do", "save")

    def get_object(self):
        return _post_for(self.actor, self.kwargs["pk"])

    def get_form(self):
        if self.action in ("skip", "approve"):
            return None
        return PostEditForm(self.request.POST)

    def perform(self, form):
        if self.action == "skip":
            content.post_skip(actor=self.actor, post=self.object)
        elif self.action == "approve":
            content.post_approve(actor=self.actor, post=self.object)
        else:
            content.post_update(actor=self.actor, post=self.object, **form.cleaned_data)

    def service_failed(self, exc, form):
        return super().service_failed(exc, None)  # flashed for every action, the edit too

    def get_success_message(self, result):
        if self.action == "skip":
            return _("This occurrence is skipped.")
        if self.action == "approve":
            return _("Approved.")
        return _("Saved.")

    def get_success_url(self, result):
        next_url = self.request.POST.get("next", "")
        if next_url.startswith(f"/o/{self.kwargs['org_slug']}/"):
            return next_url
        return resolve_url("calendar", org_slug=self.kwargs["org_slug"])
