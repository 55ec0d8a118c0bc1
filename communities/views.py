from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core import posters as core_posters
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can

from . import hooks, posters, services
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


class CommunityListView(OrgViewMixin, ServiceActionView):
    page_size = 50
    success_url = "communities"
    success_url_kwargs = ("org_slug",)
    htmx_partial = True  # an HTMX bulk action answers with the refreshed table

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

    def perform(self, form):
        """Bulk actions on the selected groups."""
        form = BulkActionForm(
            self.request.POST,
            communities=visible_communities(self.actor),
            organization=self.organization,
        )
        if not form.is_valid():
            raise ValidationError([error for errors in form.errors.values() for error in errors])
        data, groups = form.cleaned_data, list(form.cleaned_data["ids"])
        if data["action"] == "archive":
            return services.communities_bulk_archive(actor=self.actor, communities=groups)
        if data["action"] == "tag":
            return services.communities_bulk_tag(
                actor=self.actor, communities=groups, add=services.clean_tags(data["tags"])
            )
        if data["action"] == "untag":
            return services.communities_bulk_tag(
                actor=self.actor, communities=groups, remove=services.clean_tags(data["tags"])
            )
        return services.communities_bulk_assign_staff(
            actor=self.actor, communities=groups, user=data["user"], role=data["role"]
        )

    def get_success_message(self, count):
        return _("%(n)s groups updated.") % {"n": count}


class CommunityCreateView(OrgViewMixin, ServiceActionView):
    capability = "community.manage"
    success_message = gettext_lazy("Group created.")

    def get(self, request, org_slug, form=None, status=200):
        form = form or CommunityForm(organization=self.organization)
        return render(request, "communities/community_form.html", {"form": form}, status=status)

    def get_form(self):
        return CommunityForm(self.request.POST, organization=self.organization)

    def perform(self, form):
        return services.community_create(actor=self.actor, **form.cleaned_data)

    def success_response(self, community):
        return redirect("community-detail", org_slug=self.kwargs["org_slug"], pk=community.pk)


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
            "poster_has_text": core_posters.has_cjk_font(),
        }
        for panel in hooks.community_page_panels(org=self.organization, community=community):
            context.update(panel)
        return render(request, "communities/community_detail.html", context)


class CommunityPosterView(CommunityMixin, View):
    """The group's QR poster (PNG, its join link), to download and share; 404 without one."""

    def get(self, request, org_slug, pk):
        if not self.community.join_url:
            raise Http404
        response = HttpResponse(posters.poster_png(self.community), content_type="image/png")
        name = f"poster-group-{self.community.pk}.png"
        disposition = "attachment" if request.GET.get("download") else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{name}"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class CommunityEditView(CommunityMixin, ServiceActionView):
    community_capability = "community.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def get(self, request, org_slug, pk, form=None, status=200):
        form = form or CommunityForm(
            initial=CommunityForm.initial_from(self.community),
            organization=self.organization,
            exclude_pk=self.community.pk,
        )
        context = {"form": form, "community": self.community}
        return render(request, "communities/community_form.html", context, status=status)

    def get_form(self):
        return CommunityForm(
            self.request.POST, organization=self.organization, exclude_pk=self.community.pk
        )

    def perform(self, form):
        services.community_update(actor=self.actor, community=self.community, **form.cleaned_data)


class CommunityArchiveView(CommunityMixin, ServiceActionView):
    community_capability = "community.manage"
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def perform(self, form):
        services.community_set_archived(
            actor=self.actor, community=self.community, archived=self.kwargs["archived"]
        )

    def get_success_message(self, result):
        return _("Group archived.") if self.kwargs["archived"] else _("Group restored.")


class RulesEditView(CommunityMixin, ServiceActionView):
    community_capability = "community.manage"
    form_class = RulesForm
    success_message = gettext_lazy("Rules saved.")
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

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

    def perform(self, form):
        services.rules_update(
            actor=self.actor, community=self.community, **form.to_service_values()
        )


class RulesTemplateView(CommunityMixin, ServiceActionView):
    community_capability = "community.manage"
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def perform(self, form):
        form = TemplateForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose one of the templates."))
        template = form.cleaned_data["template"]
        services.rules_apply_template(actor=self.actor, community=self.community, template=template)
        return template

    def get_success_message(self, template):
        return _("Template “%(name)s” applied.") % {"name": TEMPLATES[template]["label"]}


class RulesCopyView(CommunityMixin, ServiceActionView):
    community_capability = "community.view"
    permission_denied_message = gettext_lazy("You may not change the rules of every chosen group.")
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def _targets(self):
        groups = visible_communities(self.actor).filter(status=CommunityStatus.ACTIVE)
        return groups.exclude(pk=self.community.pk).order_by("name")

    def get(self, request, org_slug, pk, form=None, status=200):
        form = form or RulesCopyForm(communities=self._targets())
        context = {"form": form, "community": self.community}
        return render(request, "communities/rules_copy.html", context, status=status)

    def get_form(self):
        return RulesCopyForm(self.request.POST, communities=self._targets())

    def perform(self, form):
        return services.rules_copy(
            actor=self.actor, source=self.community, targets=form.cleaned_data["targets"]
        )

    def get_success_message(self, count):
        return _("Rules copied to %(n)s groups.") % {"n": count}


class StaffAssignView(CommunityMixin, ServiceActionView):
    community_capability = "community.staff.manage"
    success_message = gettext_lazy("Staff assigned.")
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def perform(self, form):
        form = StaffAssignForm(self.request.POST, organization=self.organization)
        if not form.is_valid():
            raise ValidationError(_("Choose a person and a role."))
        services.staff_assign(actor=self.actor, community=self.community, **form.cleaned_data)


class StaffEndView(CommunityMixin, ServiceActionView):
    community_capability = "community.staff.manage"
    success_message = gettext_lazy("Assignment ended.")
    success_url = "community-detail"
    success_url_kwargs = ("org_slug", "pk")

    def get_object(self):
        return self.get_org_object(
            StaffAssignment, pk=self.kwargs["assignment_pk"], community=self.community
        )

    def perform(self, form):
        services.staff_unassign(actor=self.actor, assignment=self.object)


class StaffDirectoryView(OrgViewMixin, View):
    capability = "team.view"

    def get(self, request, org_slug):
        return render(
            request,
            "communities/staff_directory.html",
            {"rows": staff_directory(self.organization)},
        )


class TierListView(OrgViewMixin, ServiceActionView):
    capability = "community.view"
    form_class = TierForm
    success_message = gettext_lazy("Tier saved.")
    success_url = "tiers"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        tiers = VipTier.objects.for_org(self.organization).order_by("-is_active", "rank")
        context = {
            "tiers": tiers,
            "form": form or TierForm(),
            "can_manage": can(self.actor, "community.manage"),
        }
        return render(request, "communities/tiers.html", context, status=status)

    def post(self, request, *args, **kwargs):
        if not can(self.actor, "community.manage"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        services.tier_save(actor=self.actor, **form.cleaned_data)


class TierEditView(OrgViewMixin, ServiceActionView):
    capability = "community.manage"
    form_class = TierForm
    success_message = gettext_lazy("Tier saved.")
    success_url = "tiers"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, pk, form=None, status=200):
        tier = self.get_org_object(VipTier, pk=pk)
        initial = {key: getattr(tier, key) for key in services.TIER_FIELDS}
        form = form or TierForm(initial=initial)
        return render(
            request, "communities/tier_form.html", {"form": form, "tier": tier}, status=status
        )

    def get_object(self):
        return self.get_org_object(VipTier, pk=self.kwargs["pk"])

    def perform(self, form):
        services.tier_save(actor=self.actor, tier=self.object, **form.cleaned_data)


class TierDeactivateView(OrgViewMixin, ServiceActionView):
    capability = "community.manage"
    success_message = gettext_lazy("Tier retired.")
    success_url = "tiers"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(VipTier, pk=self.kwargs["pk"], is_active=True)

    def perform(self, form):
        services.tier_deactivate(actor=self.actor, tier=self.object)


class PointsView(OrgViewMixin, ServiceActionView):
    """The points rules, and the rewards members redeem points for (a POST with
    `points_cost` adds a reward)."""

    capability = "community.view"
    success_url = "points"
    success_url_kwargs = ("org_slug",)

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

    def post(self, request, *args, **kwargs):
        if not can(self.actor, "community.manage"):
            raise PermissionDenied
        self.adds_item = "points_cost" in request.POST
        return super().post(request, *args, **kwargs)

    def get_form(self):
        form_class = RedemptionItemForm if self.adds_item else PointsRulesForm
        return form_class(self.request.POST)

    def form_invalid(self, form):
        which = "item_form" if self.adds_item else "form"
        return self.get(self.request, *self.args, status=400, **{which: form}, **self.kwargs)

    def perform(self, form):
        if self.adds_item:
            services.redemption_item_save(actor=self.actor, **form.cleaned_data)
        else:
            services.points_rules_update(actor=self.actor, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Reward added.") if self.adds_item else _("Points rules saved.")


class RedemptionItemToggleView(OrgViewMixin, ServiceActionView):
    capability = "community.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "points"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(RedemptionItem, pk=self.kwargs["pk"])

    def perform(self, form):
        services.redemption_item_save(
            actor=self.actor, item=self.object, is_active=not self.object.is_active
        )
