from django import template
from django.utils.translation import gettext as _

from care.selectors import my_open_count

register = template.Library()


@register.filter
def duration(seconds):
    """3600 → "1 h 0 min", 90 → "2 min" (rounded up to the minute), None → "—"."""
    if seconds is None or seconds == "":
        return "—"
    minutes = int(-(-float(seconds) // 60))
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(d)s days") % {"d": hours // 24}


@register.simple_tag(takes_context=True)
def my_open_cases(context):
    """Open cases assigned to the signed-in person (one COUNT query; for the nav badge)."""
    return my_open_count(context.get("actor"))
