from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from communities.selectors import visible_communities
from core.views import ServiceActionView
from integrations.models import Action, ActionKind, ActionStatus
from integrations.platforms import Platform
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can, can_anywhere, require
from tenancy.scope import scoped_stream

from . import csv_io, holdout, privacy, services
from .forms import MemberNotesForm, PointsAdjustForm, ReasonForm
from .models import (
    Block,
    EntryReview,
    ImportJob,
    MemberIdentity,
    MembershipStatus,
    PointsEntry,
    Warning,
)
from .selectors import (
    member_for,
    membership_for,
    points_detail,
    points_label,
    search_members,
    timeline,
    visible_memberships,
)

PAGE = 50


def _labelled(entry):
    """A points ledger entry with what it was for, in words."""
    entry.label = points_label(entry.reason)
    entry.detail_text = points_detail(entry)
    return entry


def _back(request, fallback) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/o/") else fallback


class MemberListView(OrgViewMixin, View):
    capability_anywhere = "member.view"

    def get(self, request, org_slug):
        page = Paginator(search_members(self.actor, request.GET), PAGE).get_page(
            request.GET.get("page")
        )
        context = {
            "page": page,
            "statuses": MembershipStatus.choices,
            "communities": visible_communities(self.actor).order_by("name"),
        }
        template = (
            "members/partials/member_table.html" if request.htmx else "members/member_list.html"
        )
        return render(request, template, context)


class MemberDetailView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "member.view"
    success_message = gettext_lazy("Saved.")
    success_url = "member-detail"
    success_url_kwargs = ("org_slug", "pk")

    def get(self, request, org_slug, pk):
        member = member_for(self.actor, pk)
        memberships = (
            visible_memberships(self.actor)
            .filter(member=member)
            .select_related("community", "identity")
            .order_by("community__name")
        )
        reviews = defaultdict(list)
        for review in (
            EntryReview.objects.for_org(self.organization)
            .filter(membership__in=memberships)
            .order_by("-opened_at")[:50]
        ):
            reviews[review.membership_id].append(review)
        context = {
            "member": member,
            "identities": member.identities.all(),
            "memberships": [
                {
                    "m": m,
                    "can_warn": can(self.actor, "member.warn", m.community),
                    "can_remove": can(self.actor, "member.remove", m.community),
                    "reviews": reviews[m.pk],
                }
                for m in memberships
            ],
            "timeline": timeline(self.actor, member),
            "blocks": Block.objects.for_org(self.organization).filter(
                member=member, lifted_at=None
            ),
            "reason_form": ReasonForm(),
            "points_form": PointsAdjustForm() if can(self.actor, "member.points.adjust") else None,
            "can_link": can(self.actor, "member.edit"),
            "platforms": Platform.choices,
            "notes_form": MemberNotesForm(
                initial={
                    "tags": ", ".join(member.tags),
                    "notes": member.notes,
                    "phone": member.phone,
                }
            )
            if can(self.actor, "member.edit")
            else None,
            "can_erase": can(self.actor, privacy.CAPABILITY),
            "ledger": [
                _labelled(entry)
                for entry in PointsEntry.objects.for_org(self.organization)
                .filter(member=member)
                .order_by("-created_at")[:20]
            ],
        }
        return render(request, "members/member_detail.html", context)

    def get_object(self):
        return member_for(self.actor, self.kwargs["pk"])

    def perform(self, form):
        """Tags and notes, or a points adjustment."""
        request, member = self.request, self.object
        if "link_user" in request.POST or "unlink" in request.POST:
            self._link(request, member)
        elif "delta" in request.POST:
            form = PointsAdjustForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Enter a whole number of points and a reason."))
            services.points_adjust(actor=self.actor, member=member, **form.cleaned_data)
        else:
            if not can(self.actor, "member.edit"):
                raise PermissionDenied
            form = MemberNotesForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Check the tags and notes."))
            services.member_update(actor=self.actor, member=member, **form.cleaned_data)

    def _link(self, request, member) -> None:
        """Link another platform identity to this member (the same person), or unlink one."""
        identities = MemberIdentity.objects.for_org(self.organization)
        if "unlink" in request.POST:
            raw = request.POST["unlink"]
            valid = raw.isdigit() and len(raw) < 19
            identity = identities.filter(member=member, pk=int(raw)).first() if valid else None
            if identity is None:
                raise ValidationError(_("No such identity."))
            services.identity_unlink(actor=self.actor, identity=identity)
            return
        identity = (
            identities.filter(
                platform=request.POST.get("link_platform", ""),
                external_user_id=request.POST.get("link_user", "").strip()[:128],
            )
            .select_related("member")
            .first()
        )
        if identity is None:
            raise ValidationError(_("Nobody with that id on that platform has been seen yet."))
        member_for(self.actor, identity.member_id)  # the other person must be visible too
        services.identity_link(actor=self.actor, identity=identity, to_member=member)


class MemberDataExportView(OrgViewMixin, View):
    """Everything stored about one member, as a JSON download (a data access request)."""

    capability = privacy.CAPABILITY

    def get(self, request, org_slug, pk):
        member = member_for(self.actor, pk)
        data = privacy.member_export(actor=self.actor, member=member)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
        response["Content-Disposition"] = f'attachment; filename="member-{member.pk}.json"'
        return response


class MemberEraseView(OrgViewMixin, ServiceActionView):
    """Erase a member's personal data on request (POST, with the confirmation ticked)."""

    capability = privacy.CAPABILITY
    success_message = gettext_lazy("The member's personal data has been erased.")
    success_url = "member-detail"
    success_url_kwargs = ("org_slug", "pk")

    def get_object(self):
        return member_for(self.actor, self.kwargs["pk"])

    def perform(self, form):
        if self.request.POST.get("confirm") != "yes":
            raise ValidationError(_("Tick the box to confirm the erasure."))
        privacy.member_erase(actor=self.actor, member=self.object)


class MembershipActionView(OrgViewMixin, ServiceActionView):
    """warn / remove / reinstate / onboarding steps on one membership (POST). The capability
    is checked in the membership's group (a deputy may warn in their own groups only)."""

    visibility_capability = "member.view"
    ACTION_CAPABILITIES = {
        "warn": "member.warn",
        "remove": "member.remove",
        "reinstate": "member.remove",
        "onboarding-introduced": "member.edit",
        "onboarding-coupon": "member.edit",
    }

    @classmethod
    def community_capability_for(cls, action):
        return cls.ACTION_CAPABILITIES[action]

    success_message = gettext_lazy("Done.")

    def get_object(self):
        membership = membership_for(self.actor, self.kwargs["pk"])
        require(self.actor, self.ACTION_CAPABILITIES[self.kwargs["action"]], membership.community)
        return membership

    def perform(self, form):
        action, membership, request = self.kwargs["action"], self.object, self.request
        if action in ("warn", "remove"):
            form = ReasonForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give a reason."))
            if action == "warn":
                services.member_warn(
                    actor=self.actor, membership=membership, reason=form.cleaned_data["reason"]
                )
            else:
                services.member_remove(actor=self.actor, membership=membership, **form.cleaned_data)
        elif action == "reinstate":
            services.member_reinstate(
                actor=self.actor, membership=membership, reason=request.POST.get("reason", "")
            )
        else:
            services.onboarding_mark(
                actor=self.actor, membership=membership, step=action.removeprefix("onboarding-")
            )

    def get_success_url(self, result):
        fallback = f"/o/{self.kwargs['org_slug']}/members/{self.object.member_id}/"
        return _back(self.request, fallback)


class WarningRevokeView(OrgViewMixin, ServiceActionView):
    visibility_capability = "member.view"
    success_message = gettext_lazy("Warning revoked.")

    @classmethod
    def community_capability_for(cls, action=None):
        return "member.warn"

    def get_object(self):
        warning = self.get_org_object(Warning, pk=self.kwargs["pk"])
        self.membership = membership_for(self.actor, warning.membership_id)  # 404 if not visible
        require(self.actor, "member.warn", self.membership.community)
        return warning

    def perform(self, form):
        services.warning_revoke(actor=self.actor, warning=self.object)

    def get_success_url(self, result):
        fallback = f"/o/{self.kwargs['org_slug']}/members/{self.membership.member_id}/"
        return _back(self.request, fallback)


class BlockListView(OrgViewMixin, View):
    capability = "member.remove"

    def get(self, request, org_slug):
        blocks = (
            Block.objects.for_org(self.organization)
            .filter(lifted_at=None)
            .select_related("member")
            .order_by("-created_at")
        )
        page = Paginator(blocks, PAGE).get_page(request.GET.get("page"))
        return render(request, "members/blocks.html", {"page": page})


class BlockLiftView(OrgViewMixin, ServiceActionView):
    capability = "member.remove"
    success_message = gettext_lazy("Block lifted.")

    def get_object(self):
        return self.get_org_object(Block, pk=self.kwargs["pk"])

    def perform(self, form):
        services.block_lift(actor=self.actor, block=self.object)

    def get_success_url(self, result):
        return _back(self.request, f"/o/{self.kwargs['org_slug']}/blocks/")


class NewcomersView(OrgViewMixin, View):
    capability_anywhere = "member.view"
    """New members waiting for a hello, oldest first, so nobody is left unanswered."""

    def get(self, request, org_slug):
        newcomers = (
            visible_memberships(self.actor)
            .filter(status__in=[MembershipStatus.JOINED, MembershipStatus.ONBOARDING])
            .select_related("community", "member", "identity")
            .order_by("joined_at", "pk")
        )
        page = Paginator(newcomers, PAGE).get_page(request.GET.get("page"))
        return render(
            request, "members/newcomers.html", {"page": page, "reason_form": ReasonForm()}
        )


class DormantView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "member.view"
    permission_denied_message = gettext_lazy("Not allowed.")
    success_url = "dormant"
    success_url_kwargs = ("org_slug",)

    def _memberships(self, params):
        qs = (
            visible_memberships(self.actor)
            .filter(status=MembershipStatus.DORMANT)
            .annotate(held_out=holdout.held_out(self.organization, timezone.now()))
            .select_related("community", "member", "identity")
            .order_by("dormant_since", "pk")
        )
        if params.get("community", "").isdigit():
            qs = qs.filter(community_id=int(params["community"]))
        if params.get("reminded") == "no":
            qs = qs.filter(reminders_sent=0)
        elif params.get("reminded") == "yes":
            qs = qs.filter(reminders_sent__gt=0)
        return qs

    def get(self, request, org_slug):
        page = Paginator(self._memberships(request.GET), PAGE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "communities": visible_communities(self.actor).order_by("name"),
            "may_metrics": can_anywhere(self.actor, "metrics.view"),
        }
        return render(request, "members/dormant.html", context)

    def perform(self, form):
        ids = [int(i) for i in self.request.POST.getlist("ids") if i.isdigit()][:500]
        chosen = list(self._memberships({}).filter(pk__in=ids))
        return services.remind_now(actor=self.actor, memberships=chosen)

    def flash_errors(self, exc):
        messages.error(self.request, " ".join(exc.messages))

    def get_success_message(self, sent):
        return _("%(n)s reminders queued.") % {"n": sent}


class ActionListView(OrgViewMixin, View):
    """The outbox: what the bots are asked to do."""

    capability = "integration.actions"

    def get(self, request, org_slug):
        actions = (
            Action.objects.for_org(self.organization)
            .select_related("community", "member")
            .order_by("-pk")
        )
        if request.GET.get("kind") in ActionKind.values:
            actions = actions.filter(kind=request.GET["kind"])
        if request.GET.get("status") in ActionStatus.values:
            actions = actions.filter(status=request.GET["status"])
        page = Paginator(actions, PAGE).get_page(request.GET.get("page"))
        context = {"page": page, "kinds": ActionKind.choices, "statuses": ActionStatus.choices}
        return render(request, "members/actions.html", context)


class MemberExportView(OrgViewMixin, View):
    """The member list as CSV, with the list's filters (what the person may see only)."""

    capability_anywhere = "metrics.export"

    def get(self, request, org_slug):
        rows = csv_io.export_rows(
            organization=self.organization,
            members=search_members(self.actor, request.GET),
            memberships=visible_memberships(self.actor),
        )
        response = StreamingHttpResponse(
            scoped_stream(self.organization, rows), content_type="text/csv; charset=utf-8"
        )
        filename = csv_io.export_filename(self.organization)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class MemberImportView(OrgViewMixin, ServiceActionView):
    capability = "member.edit"

    def get(self, request, org_slug, status=200):
        jobs = ImportJob.objects.for_org(self.organization).order_by("-pk")[:20]
        return render(request, "members/import.html", {"jobs": jobs}, status=status)

    def perform(self, form):
        upload = self.request.FILES.get("file")
        if upload is None:
            raise ValidationError(_("Choose a CSV file."))
        return csv_io.import_upload(actor=self.actor, upload=upload)

    def error_response(self):
        return self.get(self.request, *self.args, status=400, **self.kwargs)

    def success_response(self, job):
        return redirect("member-import-job", org_slug=self.kwargs["org_slug"], pk=job.pk)


class MemberImportJobView(OrgViewMixin, View):
    """One import's progress (the page polls itself with HTMX while it runs) and error report."""

    capability = "member.edit"

    def get(self, request, org_slug, pk):
        job = self.get_org_object(ImportJob, pk=pk)
        template = "members/partials/import_job.html" if request.htmx else "members/import_job.html"
        return render(request, template, {"job": job})
