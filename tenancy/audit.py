"""The audit trail. Every service that changes state calls `record` inside its transaction."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .models import AuditLogEntry


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, set | frozenset):
            return sorted(o, key=str)
        if isinstance(o, models.Model):
            return o.pk
        return super().default(o)


def jsonable(value):
    """`value` in plain JSON types: Decimal, date, datetime, time, timedelta, UUID and lazy
    strings become strings (Django's encoder), sets and tuples lists, model instances their
    id. Recording a change must never stop the change."""
    return json.loads(json.dumps(value, cls=_Encoder))


def record(*, actor, action: str, obj=None, summary: str = "", changes: dict | None = None):
    """Append one entry: who (`actor`), what (`action`, e.g. "apikey.create"), which object."""
    return AuditLogEntry.objects.create(
        organization=actor.organization,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=str(actor.label)[:200],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        summary=str(summary)[:500],
        changes=jsonable(changes or {}),
    )


def diff(instance, fields, new_values: dict) -> dict:
    """{"field": [old, new]} for the fields whose values change."""
    changes = {}
    for name in fields:
        old = getattr(instance, name)
        new = new_values[name]
        if old != new:
            changes[name] = [old, new]
    return changes
