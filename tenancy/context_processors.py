from django.utils.functional import SimpleLazyObject

from . import rls
from .models import OrgMembership


def organization(request):
    """The current organization, the user's other organizations (for the switcher)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        # read (only if a template asks) under the lookup that shows the user's own memberships
        with rls.lookup("user", user.pk):
            return list(
                OrgMembership.objects.unscoped()
                .filter(user=user, is_active=True)
                .select_related("organization")
                .order_by("organization__name")
            )

    return {
        "organization": getattr(request, "organization", None),
        "actor": getattr(request, "actor", None),
        "my_memberships": SimpleLazyObject(memberships),
    }
