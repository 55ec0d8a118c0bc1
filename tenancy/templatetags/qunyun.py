from django import template

from core.templatetags.ui import bs, widget_kind
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


# The generic form filters live in core; templates that load qunyun get them too.
register.filter("widget_kind", widget_kind)
register.filter("bs", bs)
