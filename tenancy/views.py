from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.forms import add_service_errors
from core.views import ServiceActionView

from . import hooks, login_throttle, rls, services, signup
from .filters import AuditLogFilter
from .forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    InvitationForm,
    OrganizationSettingsForm,
    RoleForm,
    SignupForm,
)
from .home import gather as gather_home
from .mixins import OrgViewMixin
from .models import ApiKey, AuditLogEntry, Invitation, OrgMembership
from .permissions import can


@login_required
def home(request):
    """Straight to the user's organization; a picker when there are several."""
    with rls.lookup("user", request.user.pk):
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
    """The home: what needs the person now, the day's figures, the first steps while new."""

    def get(self, request, org_slug):
        recent = None
        if can(self.actor, "audit.view"):
            recent = AuditLogEntry.objects.for_org(self.organization)[:8]
        context = {"recent_audit": recent, **gather_home(self.actor)}
        return render(request, "tenancy/dashboard.html", context)


class FirstStepsDismissView(OrgViewMixin, ServiceActionView):
    capability = "org.manage"
    success_message = gettext_lazy("The checklist is hidden.")
    success_url = "dashboard"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug):
        """Asks before hiding (the home's button posts here directly)."""
        return render(request, "tenancy/first_steps_dismiss.html")

    def perform(self, form):
        services.first_steps_dismiss(actor=self.actor)


class TeamView(OrgViewMixin, ServiceActionView):
    capability = "team.view"
    form_class = InvitationForm
    success_url = "team"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        memberships = (
            OrgMembership.objects.for_org(self.organization)
            .select_related("user")
            .order_by("-is_active", "role", "user__email")
        )
        invitations = Invitation.objects.for_org(self.organization).order_by("-created_at")[:50]
        context = {
            "memberships": memberships,
            "invitations": invitations,
            "form": form or InvitationForm(),
            "role_form": RoleForm(),
            "can_manage": can(self.actor, "team.manage"),
        }
        for panel in hooks.team_panels(actor=self.actor):
            context.update(panel)
        return render(request, "tenancy/team.html", context, status=status)

    def post(self, request, *args, **kwargs):
        if not can(self.actor, "team.manage"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        invitation, _token = services.invitation_create(actor=self.actor, **form.cleaned_data)
        return invitation

    def get_success_message(self, invitation):
        return _("Invitation sent to %(email)s.") % {"email": invitation.email}


class TeamMemberActionView(OrgViewMixin, ServiceActionView):
    """POST-only actions on one membership: change role, deactivate, reactivate."""

    capability = "team.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "team"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(OrgMembership, pk=self.kwargs["pk"])

    def perform(self, form):
        if self.kwargs["action"] == "role":
            form = RoleForm(self.request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a valid role."))
            services.membership_change_role(
                actor=self.actor, membership=self.object, role=form.cleaned_data["role"]
            )
        else:
            services.membership_set_active(
                actor=self.actor,
                membership=self.object,
                active=self.kwargs["action"] == "reactivate",
            )


class InvitationRevokeView(OrgViewMixin, ServiceActionView):
    capability = "team.manage"
    success_message = gettext_lazy("Invitation revoked.")
    success_url = "team"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(Invitation, pk=self.kwargs["pk"])

    def perform(self, form):
        services.invitation_revoke(actor=self.actor, invitation=self.object)


class ApiKeyListView(OrgViewMixin, ServiceActionView):
    capability = "apikey.manage"
    form_class = ApiKeyForm

    def get(self, request, org_slug, form=None, new_key=None, status=200):
        keys = ApiKey.objects.for_org(self.organization).order_by("revoked_at", "-created_at")
        context = {"keys": keys, "form": form or ApiKeyForm(), "new_key": new_key}
        return render(request, "tenancy/api_keys.html", context, status=status)

    def perform(self, form):
        return services.api_key_create(actor=self.actor, **form.cleaned_data)

    def success_response(self, result):
        key, raw = result
        # The only time the full key is ever shown.
        return self.get(self.request, *self.args, new_key={"key": key, "raw": raw}, **self.kwargs)


class ApiKeyRevokeView(OrgViewMixin, ServiceActionView):
    capability = "apikey.manage"
    success_message = gettext_lazy("API key revoked.")
    success_url = "api-keys"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(ApiKey, pk=self.kwargs["pk"])

    def perform(self, form):
        services.api_key_revoke(actor=self.actor, api_key=self.object)


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


class OrganizationSettingsView(OrgViewMixin, ServiceActionView):
    capability = "org.manage"
    form_class = OrganizationSettingsForm
    success_message = gettext_lazy("Settings saved.")
    success_url = "org-settings"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        form = form or OrganizationSettingsForm(
            initial=OrganizationSettingsForm.initial_from(self.organization)
        )
        return render(request, "tenancy/settings.html", {"form": form}, status=status)

    def perform(self, form):
        services.organization_update(actor=self.actor, **form.to_service_values())


class InvitationAcceptView(ServiceActionView):
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

    def post(self, request, *args, **kwargs):
        if self.invitation is None or self.invitation.status != "pending":
            return self.render_page(request)
        return super().post(request, *args, **kwargs)

    def get_form(self):
        if self.request.user.is_authenticated:
            return None
        return AcceptInvitationForm(user=None, data=self.request.POST)

    def form_invalid(self, form):
        return self.render_page(self.request, form=form, status=400)

    def error_response(self):
        return self.render_page(self.request, status=400)

    def perform(self, form):
        token = self.kwargs["token"]
        if form is None:
            return services.invitation_accept(token=token, user=self.request.user)
        membership = services.invitation_accept(
            token=token,
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["new_password1"],
        )
        login(self.request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        return membership

    def get_success_message(self, membership):
        return _("Welcome to %(org)s.") % {"org": membership.organization.name}

    def success_response(self, membership):
        return redirect("dashboard", org_slug=membership.organization.slug)


# --- Sign-up (tenancy/signup.py) ----------------------------------------------------------------


class SignupEnabledMixin:
    """The public sign-up pages exist only with SIGNUP_ENABLED (self-hosted installs turn it
    off and create organizations with `manage.py create_org`)."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.SIGNUP_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class SignupView(SignupEnabledMixin, View):
    """A new organization and its owner. Limited like the login (tenancy/login_throttle.py)."""

    def get(self, request, form=None, status=200):
        context = {"form": form or SignupForm()}
        return render(request, "registration/signup.html", context, status=status)

    def post(self, request):
        form = SignupForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        values = form.to_service_values()
        refused = login_throttle.signup_refused(request, values["email"])
        if refused is not None:
            return refused
        language = translation.get_language() or settings.LANGUAGE_CODE
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        try:
            signup.signup_validate(**values)
            # past the email's limit the page reads the same, but nothing is kept or mailed
            if login_throttle.signup_mail_allowed(values["email"]):
                signup.signup_request(**values, language=language)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.get(request, form=form, status=400)
        return redirect("signup-sent")


class SignupSentView(SignupEnabledMixin, View):
    def get(self, request):
        return render(request, "registration/signup_sent.html")


class SignupVerifyView(SignupEnabledMixin, View):
    """The link in the sign-up mail. Opening it shows what will be created; the button creates
    it (a mail scanner that follows links creates nothing)."""

    def get(self, request, uidb64, token):
        refused = login_throttle.link_guesses_refused(request)
        if refused is not None:
            return refused
        pending = signup.signup_for_link(uidb64, token)
        if pending is None:
            login_throttle.count_failed_link(request)
        context = {"signup": pending}
        return render(
            request, "registration/signup_verify.html", context, status=200 if pending else 404
        )

    def post(self, request, uidb64, token):
        refused = login_throttle.link_guesses_refused(request)
        if refused is not None:
            return refused
        try:
            membership = signup.signup_verify(uidb64=uidb64, token=token)
        except ValidationError as exc:
            login_throttle.count_failed_link(request)
            context = {"signup": None, "errors": exc.messages}
            return render(request, "registration/signup_verify.html", context, status=400)
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Welcome to Qunyun: %(org)s is ready. The first steps are below.")
            % {"org": membership.organization.name},
        )
        return redirect("dashboard", org_slug=membership.organization.slug)
