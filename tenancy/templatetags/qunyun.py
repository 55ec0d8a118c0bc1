from django import template

from tenancy.permissions import can as can_do
from tenancy.roles import CommunityRole, OrgRole

register = template.Library()

_ROLE_LABELS = {**dict(OrgRole.choices), **dict(CommunityRole.choices)}


@register.simple_tag(takes_context=True)
def can(context, capability, community=None):
    """{% can "apikey.manage" as may_manage_keys %}: the same check views and the API use."""
    return can_do(context.get("actor"), capability, community)


@register.filter
def role_label(value):
    return _ROLE_LABELS.get(value, value)
