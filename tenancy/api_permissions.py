from rest_framework.permissions import BasePermission

from .permissions import can


class HasCapability(BasePermission):
    """The view names a capability per action (`capabilities = {"list": "audit.view"}`), or one
    `capability` for all; the request's actor must hold it. Views naming none are refused."""

    def has_permission(self, request, view):
        actor = getattr(request, "auth", None)
        if actor is None:
            return False
        if not _handles(view, request):
            return True  # let DRF answer 405 rather than a misleading 403
        capability = required_capability(view, request)
        return capability is not None and can(actor, capability)


def required_capability(view, request) -> str | None:
    per_action = getattr(view, "capabilities", None) or {}
    action = getattr(view, "action", None) or request.method.lower()
    return per_action.get(action, getattr(view, "capability", None))


def _handles(view, request) -> bool:
    """Does the view take this method at all? (Viewsets map methods to actions.)"""
    method = request.method.lower()
    if hasattr(view, "action_map"):
        return method in view.action_map or method == "options"
    return hasattr(view, method)
