from django import template

from core.templatetags.ui import NUMBER_FILTERS

register = template.Library()

# the project's number formats (core.formatting): pct, money, duration, ...
for _name, _function in NUMBER_FILTERS.items():
    register.filter(_name, _function)


@register.filter
def heat(value, top):
    """A cell's shade, 0–100, relative to the busiest cell."""
    return round(100 * value / top) if top else 0


@register.simple_tag
def sort_link(current, key):
    """The sort parameter a column header links to: descending first, then ascending."""
    return key if current == f"-{key}" else f"-{key}"
