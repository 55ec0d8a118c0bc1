from django import template

register = template.Library()


@register.filter
def pct(value, digits=1):
    """0.4251 → "42.5%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def heat(value, top):
    """A cell's shade, 0–100, relative to the busiest cell."""
    return round(100 * value / top) if top else 0


@register.simple_tag
def sort_link(current, key):
    """The sort parameter a column header links to: descending first, then ascending."""
    return key if current == f"-{key}" else f"-{key}"
