"""The audit trail. Every service that changes state calls `record` inside its transaction."""

from .models import AuditLogEntry


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
        changes=changes or {},
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
