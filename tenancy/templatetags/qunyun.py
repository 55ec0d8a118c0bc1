from django import template

from tenancy.permissions import can as can_do
from tenancy.permissions import can_anywhere
from tenancy.roles import CommunityRole, OrgRole

register = template.Library()

_ROLE_LABELS = {**dict(OrgRole.choices), **dict(CommunityRole.choices)}


@register.simple_tag(takes_context=True)
def can(context, capability, community=None):
    """{% can "apikey.manage" as may_manage_keys %}: the same check views and the API use."""
    return can_do(context.get("actor"), capability, community)


@register.simple_tag(takes_context=True)
def can_somewhere(context, capability):
    """{% can_somewhere "community.view" as x %}: org-wide or in one of the actor's groups."""
    actor = context.get("actor")
    return actor is not None and can_anywhere(actor, capability)


@register.filter
def role_label(value):
    return _ROLE_LABELS.get(value, value)


def _widget_kind(bound_field) -> str:
    widget = bound_field.field.widget
    if widget.__class__.__name__ in ("CheckboxSelectMultiple", "RadioSelect"):
        return "choices"
    if getattr(widget, "input_type", None) == "checkbox":
        return "checkbox"
    if getattr(widget, "input_type", None) == "select" or widget.__class__.__name__.endswith(
        "Select"
    ):
        return "select"
    return "input"


@register.filter
def widget_kind(bound_field) -> str:
    return _widget_kind(bound_field)


@register.filter
def bs(bound_field):
    """Render a form field's widget with Bootstrap's classes (and is-invalid on errors)."""
    kind = _widget_kind(bound_field)
    css = {"checkbox": "form-check-input", "select": "form-select", "choices": ""}.get(
        kind, "form-control"
    )
    if bound_field.errors and css:
        css += " is-invalid"
    attrs = {"class": css} if css else {}
    if bound_field.help_text:
        attrs["aria-describedby"] = f"{bound_field.auto_id}_help"
    return bound_field.as_widget(attrs=attrs)
