from .models import OrgMembership


def organization(request):
    """The current organization, the user's other organizations (for the switcher)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = (
        OrgMembership.objects.unscoped()
        .filter(user=user, is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )
    return {
        "organization": getattr(request, "organization", None),
        "actor": getattr(request, "actor", None),
        "my_memberships": memberships,
    }
