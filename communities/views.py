from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors, flash_errors
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can

from . import hooks, services
from .forms import (
    BulkActionForm,
    CommunityForm,
    PointsRulesForm,
    RedemptionItemForm,
    RulesCopyForm,
    RulesForm,
    StaffAssignForm,
    TemplateForm,
    TierForm,
)
from .models import (
    CommunityKind,
    CommunityRules,
    CommunityStatus,
    Platform,
    RedemptionItem,
    StaffAssignment,
    VipTier,
)
from .rule_templates import TEMPLATES
from .rules import render_text
from .selectors import community_for, staff_directory, visible_communities

SORTS = {
    "name": "name",
    "-name": "-name",
    "newest": "-created_at",
    "oldest": "created_at",
    "capacity": "-capacity",
    "kind": "kind",
}


class CommunityMixin(OrgViewMixin):
    """Views of one community: invisible groups are 404, missing capability in it is 403."""

    capability = "org.view"  # org-level gate; the real check is per community below
    community_capability = "community.view"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "actor", None) is not None:
            self.community = community_for(request.actor, kwargs.get("pk"))
            if not can(request.actor, self.community_capability, self.community):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class CommunityListView(OrgViewMixin, View):
    page_size = 50

    def _queryset(self, params):
        qs = visible_communities(self.actor).select_related("parent")
        status = params.get("status") or CommunityStatus.ACTIVE
        if status in CommunityStatus.values:
            qs = qs.filter(status=status)
        if params.get("kind") in CommunityKind.values:
            qs = qs.filter(kind=params["kind"])
        if params.get("platform") in Platform.values:
            qs = qs.filter(platform=params["platform"])
        query = (params.get("q") or "").strip()[:100]
        if query:
            qs = qs.filter(
                Q(name__icontains=query)
                | Q(region__icontains=query)
                | Q(category__icontains=query)
                | Q(external_id__icontains=query)
                | Q(tags__icontains=query)
            )
        tag = (params.get("tag") or "").strip()[:30]
        if tag:
            qs = qs.filter(tags__icontains=f'"{tag}"')
        return qs.order_by(SORTS.get(params.get("sort"), "name"), "pk")

    def get(self, request, org_slug, bulk_form=None, status=200):
        page = Paginator(self._queryset(request.GET), self.page_size).get_page(
            request.GET.get("page")
        )
        context = {
            "page": page,
            "kinds": CommunityKind.choices,
            "platforms": Platform.choices,
            "statuses": CommunityStatus.choices,
            "sorts": SORTS,
            "bulk_form": bulk_form
            or BulkActionForm(
                communities=visible_communities(self.actor), organization=self.organization
            ),
            "can_manage": can(self.actor, "community.manage"),
            "can_staff": can(self.actor, "community.staff.manage"),
        }
        template = (
            "communities/partials/community_table.html"
            if request.htmx
            else "communities/community_list.html"
        )
        return render(request, template, context, status=status)

    def post(self, request, org_slug):
        """Bulk actions on the selected groups."""
        form = BulkActionForm(
            request.POST,
            communities=visible_communities(self.actor),
            organization=self.organization,
        )
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("communities", org_slug=org_slug)
        data, groups = form.cleaned_data, list(form.cleaned_data["ids"])
        try:
            if data["action"] == "archive":
                count = services.communities_bulk_archive(actor=self.actor, communities=groups)
            elif data["action"] == "tag":
                count = services.communities_bulk_tag(
                    actor=self.actor, communities=groups, add=services.clean_tags(data["tags"])
                )
            elif data["action"] == "untag":
                count = services.communities_bulk_tag(
                    actor=self.actor, communities=groups, remove=services.clean_tags(data["tags"])
                )
            else:
                count = services.communities_bulk_assign_staff(
                    actor=self.actor, communities=groups, user=data["user"], role=data["role"]
                )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("%(n)s groups updated.") % {"n": count})
        return redirect("communities", org_slug=org_slug)


class CommunityCreateView(OrgViewMixin, View):
    capability = "community.manage"

    def get(self, request, org_slug, form=None, status=200):
        form = form or CommunityForm(organization=self.organization)
        return render(request, "communities/community_form.html", {"form": form}, status=status)

    def post(self, request, org_slug):
        form = CommunityForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                community = services.community_create(actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Group created."))
                return redirect("community-detail", org_slug=org_slug, pk=community.pk)
        return self.get(request, org_slug, form=form, status=400)


class CommunityDetailView(CommunityMixin, View):
    def get(self, request, org_slug, pk):
        community = self.community
        rules = (
            CommunityRules.objects.for_org(self.organization).filter(community=community).first()
        )
        staff = (
            StaffAssignment.objects.for_org(self.organization)
            .filter(community=community, ended_at=None)
            .select_related("user")
            .order_by("role")
        )
        may_staff = can(self.actor, "community.staff.manage", community)
        context = {
            "community": community,
            "rules": rules,
            "rules_text": {
                "zh-hans": render_text(rules, "zh-hans") if rules else "",
                "en": render_text(rules, "en") if rules else "",
            },
            "staff": staff,
            "children": visible_communities(self.actor).filter(parent=community),
            "can_manage": can(self.actor, "community.manage", community),
            "can_staff": may_staff,
            "staff_form": StaffAssignForm(organization=self.organization) if may_staff else None,
            "template_form": TemplateForm(),
        }
        for panel in hooks.community_page_panels(org=self.organization, community=community):
            context.update(panel)
        return render(request, "communities/community_detail.html", context)


class CommunityEditView(CommunityMixin, View):
    community_capability = "community.manage"

    def get(self, request, org_slug, pk, form=None, status=200):
        form = form or CommunityForm(
            initial=CommunityForm.initial_from(self.community),
            organization=self.organization,
            exclude_pk=self.community.pk,
        )
        context = {"form": form, "community": self.community}
        return render(request, "communities/community_form.html", context, status=status)

    def post(self, request, org_slug, pk):
        form = CommunityForm(
            request.POST, organization=self.organization, exclude_pk=self.community.pk
        )
        if form.is_valid():
            try:
                services.community_update(
                    actor=self.actor, community=self.community, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("community-detail", org_slug=org_slug, pk=pk)
        return self.get(request, org_slug, pk, form=form, status=400)


class CommunityArchiveView(CommunityMixin, View):
    community_capability = "community.manage"

    def post(self, request, org_slug, pk, archived):
        services.community_set_archived(
            actor=self.actor, community=self.community, archived=archived
        )
        messages.success(request, _("Group archived.") if archived else _("Group restored."))
        return redirect("community-detail", org_slug=org_slug, pk=pk)


class RulesEditView(CommunityMixin, View):
    community_capability = "community.manage"

    def _rules(self):
        return (
            CommunityRules.objects.for_org(self.organization)
            .filter(community=self.community)
            .first()
        )

    def get(self, request, org_slug, pk, form=None, status=200):
        rules = self._rules()
        form = form or RulesForm(initial=RulesForm.initial_from(rules) if rules else None)
        context = {"form": form, "community": self.community}
        return render(request, "communities/rules_form.html", context, status=status)

    def post(self, request, org_slug, pk):
        form = RulesForm(request.POST)
        if form.is_valid():
            try:
                services.rules_update(
                    actor=self.actor, community=self.community, **form.to_service_values()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Rules saved."))
                return redirect("community-detail", org_slug=org_slug, pk=pk)
        return self.get(request, org_slug, pk, form=form, status=400)


class RulesTemplateView(CommunityMixin, View):
    community_capability = "community.manage"

    def post(self, request, org_slug, pk):
        form = TemplateForm(request.POST)
        if form.is_valid():
            template = form.cleaned_data["template"]
            services.rules_apply_template(
                actor=self.actor, community=self.community, template=template
            )
            messages.success(
                request, _("Template “%(name)s” applied.") % {"name": TEMPLATES[template]["label"]}
            )
        else:
            messages.error(request, _("Choose one of the templates."))
        return redirect("community-detail", org_slug=org_slug, pk=pk)


class RulesCopyView(CommunityMixin, View):
    community_capability = "community.view"

    def _targets(self):
        groups = visible_communities(self.actor).filter(status=CommunityStatus.ACTIVE)
        return groups.exclude(pk=self.community.pk).order_by("name")

    def get(self, request, org_slug, pk, form=None, status=200):
        form = form or RulesCopyForm(communities=self._targets())
        context = {"form": form, "community": self.community}
        return render(request, "communities/rules_copy.html", context, status=status)

    def post(self, request, org_slug, pk):
        form = RulesCopyForm(request.POST, communities=self._targets())
        if form.is_valid():
            try:
                count = services.rules_copy(
                    actor=self.actor, source=self.community, targets=form.cleaned_data["targets"]
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, PermissionDenied):
                    exc = ValidationError(_("You may not change the rules of every chosen group."))
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Rules copied to %(n)s groups.") % {"n": count})
                return redirect("community-detail", org_slug=org_slug, pk=pk)
        return self.get(request, org_slug, pk, form=form, status=400)


class StaffAssignView(CommunityMixin, View):
    community_capability = "community.staff.manage"

    def post(self, request, org_slug, pk):
        form = StaffAssignForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                services.staff_assign(
                    actor=self.actor, community=self.community, **form.cleaned_data
                )
            except ValidationError as exc:
                flash_errors(request, exc)
            else:
                messages.success(request, _("Staff assigned."))
        else:
            messages.error(request, _("Choose a person and a role."))
        return redirect("community-detail", org_slug=org_slug, pk=pk)


class StaffEndView(CommunityMixin, View):
    community_capability = "community.staff.manage"

    def post(self, request, org_slug, pk, assignment_pk):
        assignment = self.get_org_object(
            StaffAssignment, pk=assignment_pk, community=self.community
        )
        services.staff_unassign(actor=self.actor, assignment=assignment)
        messages.success(request, _("Assignment ended."))
        return redirect("community-detail", org_slug=org_slug, pk=pk)


class StaffDirectoryView(OrgViewMixin, View):
    capability = "team.view"

    def get(self, request, org_slug):
        return render(
            request,
            "communities/staff_directory.html",
            {"rows": staff_directory(self.organization)},
        )


class TierListView(OrgViewMixin, View):
    capability = "community.view"

    def get(self, request, org_slug, form=None, status=200):
        tiers = VipTier.objects.for_org(self.organization).order_by("-is_active", "rank")
        context = {
            "tiers": tiers,
            "form": form or TierForm(),
            "can_manage": can(self.actor, "community.manage"),
        }
        return render(request, "communities/tiers.html", context, status=status)

    def post(self, request, org_slug):
        if not can(self.actor, "community.manage"):
            raise PermissionDenied
        form = TierForm(request.POST)
        if form.is_valid():
            try:
                services.tier_save(actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Tier saved."))
                return redirect("tiers", org_slug=org_slug)
        return self.get(request, org_slug, form=form, status=400)


class TierEditView(OrgViewMixin, View):
    capability = "community.manage"

    def get(self, request, org_slug, pk, form=None, status=200):
        tier = self.get_org_object(VipTier, pk=pk)
        initial = {key: getattr(tier, key) for key in services.TIER_FIELDS}
        form = form or TierForm(initial=initial)
        return render(
            request, "communities/tier_form.html", {"form": form, "tier": tier}, status=status
        )

    def post(self, request, org_slug, pk):
        tier = self.get_org_object(VipTier, pk=pk)
        form = TierForm(request.POST)
        if form.is_valid():
            try:
                services.tier_save(actor=self.actor, tier=tier, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Tier saved."))
                return redirect("tiers", org_slug=org_slug)
        return self.get(request, org_slug, pk, form=form, status=400)


class TierDeactivateView(OrgViewMixin, View):
    capability = "community.manage"

    def post(self, request, org_slug, pk):
        tier = self.get_org_object(VipTier, pk=pk, is_active=True)
        try:
            services.tier_deactivate(actor=self.actor, tier=tier)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Tier retired."))
        return redirect("tiers", org_slug=org_slug)


class PointsView(OrgViewMixin, View):
    capability = "community.view"

    def get(self, request, org_slug, form=None, item_form=None, status=200):
        rules = services.points_rules_of(self.organization)
        initial = {key: getattr(rules, key) for key in services.POINTS_FIELDS}
        context = {
            "form": form or PointsRulesForm(initial=initial),
            "item_form": item_form or RedemptionItemForm(),
            "items": RedemptionItem.objects.for_org(self.organization).order_by(
                "-is_active", "points_cost"
            ),
            "can_manage": can(self.actor, "community.manage"),
        }
        return render(request, "communities/points.html", context, status=status)

    def post(self, request, org_slug):
        if not can(self.actor, "community.manage"):
            raise PermissionDenied
        if "points_cost" in request.POST:
            item_form = RedemptionItemForm(request.POST)
            if item_form.is_valid():
                services.redemption_item_save(actor=self.actor, **item_form.cleaned_data)
                messages.success(request, _("Reward added."))
                return redirect("points", org_slug=org_slug)
            return self.get(request, org_slug, item_form=item_form, status=400)
        form = PointsRulesForm(request.POST)
        if form.is_valid():
            try:
                services.points_rules_update(actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Points rules saved."))
                return redirect("points", org_slug=org_slug)
        return self.get(request, org_slug, form=form, status=400)


class RedemptionItemToggleView(OrgViewMixin, View):
    capability = "community.manage"

    def post(self, request, org_slug, pk):
        item = self.get_org_object(RedemptionItem, pk=pk)
        services.redemption_item_save(actor=self.actor, item=item, is_active=not item.is_active)
        messages.success(request, _("Saved."))
        return redirect("points", org_slug=org_slug)
