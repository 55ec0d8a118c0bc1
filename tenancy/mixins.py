"""The one dashboard mixin: organization from the URL (resolved by the middleware), the
capability checked with the same `can()` the API uses, querysets through `for_org`."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .permissions import can, can_anywhere


class OrgViewMixin(LoginRequiredMixin):
    capability = "org.view"
    # Pages of things that live in groups (members, newcomers): open to whoever holds this
    # capability org-wide or in at least one of their groups; the page shows only those groups.
    capability_anywhere = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.organization is None:  # a route without <org_slug> must not use this mixin
            raise RuntimeError(f"{type(self).__name__} is mounted outside /o/<org_slug>/")
        if not can(request.actor, self.capability):
            raise PermissionDenied
        if self.capability_anywhere and not can_anywhere(request.actor, self.capability_anywhere):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @property
    def organization(self):
        return self.request.organization

    @property
    def actor(self):
        return self.request.actor

    def get_org_object(self, model, **lookup):
        """One object of this organization, or 404 (also when it belongs to another one)."""
        return get_object_or_404(model.objects.for_org(self.organization), **lookup)
