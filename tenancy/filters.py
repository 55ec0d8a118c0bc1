import django_filters
from django.utils.translation import gettext_lazy as _

from .models import AuditLogEntry


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(label=_("Action"), lookup_expr="startswith")
    actor = django_filters.CharFilter(
        label=_("Actor"), field_name="actor_label", lookup_expr="icontains"
    )
    object_type = django_filters.CharFilter(label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    since = django_filters.IsoDateTimeFilter(
        label=_("From"), field_name="created_at", lookup_expr="gte"
    )
    until = django_filters.IsoDateTimeFilter(
        label=_("Until"), field_name="created_at", lookup_expr="lt"
    )

    class Meta:
        model = AuditLogEntry
        fields = ["action", "actor", "object_type", "object_id", "since", "until"]
