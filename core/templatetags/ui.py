"""Generic filters: form rendering and number formats (`core.formatting`). `{% load ui %}`,
also available through `{% load qunyun %}`."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from core import formatting

register = template.Library()

NUMBER_FILTERS = {
    "count": formatting.count,
    "num": formatting.num,
    "money": formatting.money,
    "pct": formatting.pct,
    "percent": formatting.percent,
    "points": formatting.points,
    "pct_points": formatting.pct_points,
    "duration": formatting.duration,
    "signed_duration": formatting.signed_duration,
}
for _name, _function in NUMBER_FILTERS.items():
    register.filter(_name, _function, is_safe=False)


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


@register.filter(is_safe=True)
def colon(label) -> str:
    """A label before its value, with the language's own colon from the catalogue: "Tier: " in
    English, "等级：" in Chinese. Never a ':' typed after a translated word in a template."""
    separated = pgettext("a label before its value", "%(label)s: ")
    return mark_safe(separated % {"label": conditional_escape(label)})  # noqa: S308 - escaped
