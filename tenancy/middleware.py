"""Resolve `/o/<org_slug>/...` to the organization and the user's membership in it.

Anyone who is not an active member gets the same 404 as for an organization that does not
exist. The organization goes into scope for the request, its time zone is activated, and its
default language is used unless the user picked one with the language switcher.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils import timezone, translation

from . import rls
from .actors import Actor
from .models import OrgMembership
from .scope import reset_current_org, set_current_org

ORG_URL_KWARG = "org_slug"


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        request.actor = None
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_org_scope_token", None)
            if token is not None:
                reset_current_org(token)
                timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get(ORG_URL_KWARG)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # the user's own memberships are readable before an organization is in scope
        with rls.lookup("user", request.user.pk):
            membership = (
                OrgMembership.objects.unscoped()
                .select_related("organization", "user")
                .filter(organization__slug=slug, user=request.user, is_active=True)
                .first()
            )
        if membership is None:
            raise Http404("No such organization.")
        org = membership.organization
        request.organization = org
        request.membership = membership
        request.actor = Actor.for_user(membership)
        request._org_scope_token = set_current_org(org)
        timezone.activate(org.tzinfo)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(org.default_language)
            request.LANGUAGE_CODE = org.default_language
        return None
