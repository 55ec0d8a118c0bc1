from django import template

from care.selectors import my_open_count
from core.formatting import duration

register = template.Library()

register.filter("duration", duration)  # the project's format (core.formatting)


@register.simple_tag(takes_context=True)
def my_open_cases(context):
    """Open cases assigned to the signed-in person (one COUNT query; for the nav badge)."""
    return my_open_count(context.get("actor"))
