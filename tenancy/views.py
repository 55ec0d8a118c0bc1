from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors, flash_errors

from . import hooks, services
from .filters import AuditLogFilter
from .forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    InvitationForm,
    OrganizationSettingsForm,
    RoleForm,
)
from .mixins import OrgViewMixin
from .models import ApiKey, AuditLogEntry, Invitation, OrgMembership
from .permissions import can


@login_required
def home(request):
    """Straight to the user's organization; a picker when there are several."""
    memberships = list(
        OrgMembership.objects.unscoped()
        .filter(user=request.user, is_active=True)
        .select_related("organization")[:2]
    )
    if len(memberships) == 1:
        return redirect("dashboard", org_slug=memberships[0].organization.slug)
    return redirect("org-list")


@login_required
def org_list(request):
    return render(request, "tenancy/org_list.html")


class DashboardView(OrgViewMixin, View):
    def get(self, request, org_slug):
        recent = None
        if can(self.actor, "audit.view"):
            recent = AuditLogEntry.objects.for_org(self.organization)[:8]
        context = {"recent_audit": recent}
        for panel in hooks.dashboard_panels(actor=self.actor):
            context.update(panel)
        return render(request, "tenancy/dashboard.html", context)


class TeamView(OrgViewMixin, View):
    capability = "team.view"

    def get(self, request, org_slug, form=None, status=200):
        memberships = (
            OrgMembership.objects.for_org(self.organization)
            .select_related("user")
            .order_by("-is_active", "role", "user__email")
        )
        invitations = Invitation.objects.for_org(self.organization).order_by("-created_at")[:50]
        return render(
            request,
            "tenancy/team.html",
            {
                "memberships": memberships,
                "invitations": invitations,
                "form": form or InvitationForm(),
                "role_form": RoleForm(),
                "can_manage": can(self.actor, "team.manage"),
            },
            status=status,
        )

    def post(self, request, org_slug):
        if not can(self.actor, "team.manage"):
            raise PermissionDenied
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation, _token = services.invitation_create(
                    actor=self.actor, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
                )
                return redirect("team", org_slug=org_slug)
        return self.get(request, org_slug, form=form, status=400)


class TeamMemberActionView(OrgViewMixin, View):
    """POST-only actions on one membership: change role, deactivate, reactivate."""

    capability = "team.manage"

    def post(self, request, org_slug, pk, action):
        membership = self.get_org_object(OrgMembership, pk=pk)
        try:
            if action == "role":
                form = RoleForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(_("Choose a valid role."))
                services.membership_change_role(
                    actor=self.actor, membership=membership, role=form.cleaned_data["role"]
                )
            else:
                services.membership_set_active(
                    actor=self.actor, membership=membership, active=action == "reactivate"
                )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Saved."))
        return redirect("team", org_slug=org_slug)


class InvitationRevokeView(OrgViewMixin, View):
    capability = "team.manage"

    def post(self, request, org_slug, pk):
        invitation = self.get_org_object(Invitation, pk=pk)
        try:
            services.invitation_revoke(actor=self.actor, invitation=invitation)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Invitation revoked."))
        return redirect("team", org_slug=org_slug)


class ApiKeyListView(OrgViewMixin, View):
    capability = "apikey.manage"

    def get(self, request, org_slug, form=None, new_key=None, status=200):
        keys = ApiKey.objects.for_org(self.organization).order_by("revoked_at", "-created_at")
        context = {"keys": keys, "form": form or ApiKeyForm(), "new_key": new_key}
        return render(request, "tenancy/api_keys.html", context, status=status)

    def post(self, request, org_slug):
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                key, raw = services.api_key_create(actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                # The only time the full key is ever shown.
                return self.get(request, org_slug, new_key={"key": key, "raw": raw})
        return self.get(request, org_slug, form=form, status=400)


class ApiKeyRevokeView(OrgViewMixin, View):
    capability = "apikey.manage"

    def post(self, request, org_slug, pk):
        key = self.get_org_object(ApiKey, pk=pk)
        try:
            services.api_key_revoke(actor=self.actor, api_key=key)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("API key revoked."))
        return redirect("api-keys", org_slug=org_slug)


class AuditLogView(OrgViewMixin, View):
    capability = "audit.view"
    page_size = 50

    def get(self, request, org_slug):
        filterset = AuditLogFilter(
            request.GET or None, queryset=AuditLogEntry.objects.for_org(self.organization)
        )
        entries = (
            filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        )
        page = Paginator(entries, self.page_size).get_page(request.GET.get("page"))
        template = "tenancy/partials/audit_table.html" if request.htmx else "tenancy/audit.html"
        return render(request, template, {"filter": filterset, "page": page})


class OrganizationSettingsView(OrgViewMixin, View):
    capability = "org.manage"

    def get(self, request, org_slug, form=None, status=200):
        form = form or OrganizationSettingsForm(
            initial=OrganizationSettingsForm.initial_from(self.organization)
        )
        return render(request, "tenancy/settings.html", {"form": form}, status=status)

    def post(self, request, org_slug):
        form = OrganizationSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.organization_update(actor=self.actor, **form.to_service_values())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("org-settings", org_slug=org_slug)
        return self.get(request, org_slug, form=form, status=400)


class InvitationAcceptView(View):
    """The link in an invitation email. Signed in: join. Not signed in: create an account."""

    def dispatch(self, request, token):
        self.invitation = services.invitation_by_token(token)
        return super().dispatch(request, token)

    def render_page(self, request, form=None, status=200):
        invitation = self.invitation
        usable = invitation is not None and invitation.status == "pending"
        if usable and not request.user.is_authenticated and form is None:
            form = AcceptInvitationForm(user=None)
        return render(
            request,
            "tenancy/invitation_accept.html",
            {"invitation": invitation if usable else None, "form": form},
            status=status if usable else 404,
        )

    def get(self, request, token):
        return self.render_page(request)

    def post(self, request, token):
        if self.invitation is None or self.invitation.status != "pending":
            return self.render_page(request)
        form = None
        try:
            if request.user.is_authenticated:
                membership = services.invitation_accept(token=token, user=request.user)
            else:
                form = AcceptInvitationForm(user=None, data=request.POST)
                if not form.is_valid():
                    return self.render_page(request, form=form, status=400)
                membership = services.invitation_accept(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["new_password1"],
                )
                login(
                    request,
                    membership.user,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
        except ValidationError as exc:
            if form is None:
                flash_errors(request, exc)
                return self.render_page(request, status=400)
            add_service_errors(form, exc)
            return self.render_page(request, form=form, status=400)
        messages.success(
            request,
            _("Welcome to %(org)s.") % {"org": membership.organization.name},
        )
        return redirect("dashboard", org_slug=membership.organization.slug)
