from django import template
from django.conf import settings

from core.templatetags.ui import NUMBER_FILTERS, bs, colon, widget_kind
from tenancy import audit
from tenancy.forms import time_zone_label
from tenancy.permissions import can as can_do
from tenancy.permissions import can_anywhere
from tenancy.roles import role_label as role_labels

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, capability, community=None):
    """{% can "apikey.manage" as may_manage_keys %}: the same check views and the API use."""
    return can_do(context.get("actor"), capability, community)


@register.simple_tag(takes_context=True)
def can_somewhere(context, capability):
    """{% can_somewhere "community.view" as x %}: org-wide or in one of the actor's groups."""
    actor = context.get("actor")
    return actor is not None and can_anywhere(actor, capability)


@register.simple_tag(takes_context=True)
def unread_notifications(context):
    """{% unread_notifications as n %}: the bell's count (one COUNT query)."""
    from tenancy.notify import unread_count

    request = context.get("request")
    return unread_count(context.get("organization"), getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def notification_text(context, notification):
    """What a notification says, in the page's language."""
    from tenancy.notify import text_of

    return text_of(notification, context.get("organization"))


@register.simple_tag
def signup_enabled() -> bool:
    """Whether the public sign-up page is on (SIGNUP_ENABLED)."""
    return settings.SIGNUP_ENABLED


@register.filter
def role_label(value):
    return role_labels(value)


register.filter("time_zone_label", time_zone_label)


@register.filter
def audit_action(entry) -> str:
    """An audit entry's action in words ("关闭了工单"), never its code."""
    return audit.action_label(entry.action)


@register.filter
def audit_object(entry) -> str:
    return audit.object_label(entry)


@register.simple_tag
def audit_filter_choices():
    """{field name: [(value, label)]} for the audit log filters that take a code."""
    return audit.filter_choices()


# The generic form and number filters live in core; templates that load qunyun get them too.
register.filter("widget_kind", widget_kind)
register.filter("bs", bs)
register.filter("colon", colon, is_safe=True)
for _name, _function in NUMBER_FILTERS.items():
    register.filter(_name, _function)
