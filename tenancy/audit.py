"""The audit trail. Every service that changes state calls `record` inside its transaction."""

import json
import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

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


# --- what a person reads ---------------------------------------------------------------------
# Action codes ("care.case_closed") are for filters and the API; pages show a label. Each app
# registers the labels of the actions it records (in its AppConfig.ready), so the audit log
# never needs to know the apps above it; an unknown code reads as a generic "other change".

_ACTION_LABELS: dict[str, object] = {}


def register_actions(labels: dict) -> None:
    """{action code: lazy label} for the actions an app records."""
    _ACTION_LABELS.update(labels)


def action_labels() -> dict:
    return dict(_ACTION_LABELS)


def filter_choices() -> dict:
    """The audit log filter's choices in words: {"action": [(code, label)], "object_type":
    [(app_label.model, verbose name)]}, sorted by label."""
    from .models import TenantModel

    actions = sorted(
        ((code, str(label)) for code, label in _ACTION_LABELS.items()), key=lambda c: c[1]
    )
    types = sorted(
        (
            (model._meta.label_lower, capfirst(str(model._meta.verbose_name)))
            for model in apps.get_models()
            if issubclass(model, TenantModel) and "verbose_name" in model._meta.original_attrs
        ),
        key=lambda c: c[1],
    )
    return {"action": actions, "object_type": types}


def action_label(code: str) -> str:
    label = _ACTION_LABELS.get(code)
    return str(label) if label is not None else str(_("Other change"))


_GENERIC_REPR = re.compile(r"^\w+ object \((?P<pk>[^)]*)\)$")


def object_label(entry) -> str:
    """The object of an entry as a person reads it: its name at the time, or, where the model
    had no readable name, its kind and number ("排期内容 #22")."""
    text = entry.object_repr
    generic = _GENERIC_REPR.match(text or "")
    if text and not generic:
        return text
    if not entry.object_type:
        return ""
    try:
        model = apps.get_model(entry.object_type)
    except (LookupError, ValueError):
        return f"#{entry.object_id}"
    return f"{model._meta.verbose_name} #{entry.object_id}"


def field_labels(model, names) -> str:
    """Changed fields for a summary, by their names on the page ("名称、时区"), in the language
    of the person who made the change."""
    labels = []
    for name in names:
        try:
            labels.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(str(_FIELD_FALLBACKS.get(name, name.replace("_", " "))))
    return pgettext("list separator", ", ").join(labels)


_FIELD_FALLBACKS = {"group_limits": _("groups of a kind per member")}


register_actions(
    {
        "org.create": _("Created the organization"),
        "org.update": _("Changed the organization settings"),
        "org.first_steps_dismiss": _("Put away the first-steps checklist"),
        "team.add": _("Added a team member"),
        "team.invite": _("Invited someone"),
        "team.invite_revoke": _("Revoked an invitation"),
        "team.join": _("Joined the team"),
        "team.role_change": _("Changed a role"),
        "team.deactivate": _("Deactivated a team member"),
        "team.reactivate": _("Reactivated a team member"),
        "apikey.create": _("Created an API key"),
        "apikey.revoke": _("Revoked an API key"),
    }
)
