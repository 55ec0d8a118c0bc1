"""The operator's own wording of the messages the bot sends: saved per organization or per group
and language, checked against the variables each message offers (integrations.composer
.TEMPLATES), previewed with an example filled in from the organization's own data.

Nothing is deleted: a save adds a version and retires the one in use; going back to the
built-in text retires the one in use; an old version can be used again (a new save)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Conflict
from core.hooks import Hook
from tenancy import audit
from tenancy.permissions import require

from . import template_store
from .composer import GROUP_NAME, MEMBER_NAME, TEMPLATES, compose, placeholders, render
from .models import MessageTemplate

# preview_context(org, community) -> {"member": a member's name, "group": a group's name}: real
# names from the organization's own data for the preview (community: the group whose wording
# is edited, or None for the organization's). Filled in by the apps that own groups and members.
preview_context = Hook("preview_context")

LANGUAGES = [code for code, _name in settings.LANGUAGES]
MAX_LENGTH = 1000
HISTORY_SIZE = 20


def editable_templates() -> dict:
    return {key: spec for key, spec in TEMPLATES.items() if spec.editable}


def check_text(key: str, text: str) -> str:
    """The template cleaned, or a ValidationError on `text` that says what is wrong."""
    spec = TEMPLATES[key]
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": [_("Write the message, or go back to the built-in text.")]})
    if len(text) > MAX_LENGTH or "\x00" in text:
        raise ValidationError({"text": [_("Use at most %(n)s characters.") % {"n": MAX_LENGTH}]})
    used = placeholders(text)
    unknown = [name for name in used if name not in spec.variables]
    if unknown:
        offered = _(", ").join("{" + name + "}" for name in spec.variables)
        message = ngettext(
            "This message has no variable %(names)s. It can use: %(offered)s.",
            "This message has no variables %(names)s. It can use: %(offered)s.",
            len(unknown),
        ) % {"names": _(", ").join("{" + name + "}" for name in unknown), "offered": offered}
        raise ValidationError({"text": [message]})
    missing = [name for name in spec.required if name not in used]
    if missing:
        message = ngettext(
            "Use %(names)s: without it the message loses its point.",
            "Use %(names)s: without them the message loses its point.",
            len(missing),
        ) % {"names": _(", ").join("{" + name + "}" for name in missing)}
        raise ValidationError({"text": [message]})
    return text


def _check_target(actor, key, language, community) -> None:
    if key not in editable_templates() or language not in LANGUAGES:
        raise ValueError(f"not an editable message: {key!r} in {language!r}")
    if community is not None and community.organization_id != actor.organization.pk:
        raise ValueError("the group belongs to another organization")
    if community is None:
        require(actor, "org.manage")
    else:
        require(actor, "community.manage", community)


def _active(org, key, language, community):
    return MessageTemplate.objects.for_org(org).filter(
        key=key, language=language, community=community, is_active=True
    )


def active_template(org, key, language, community=None) -> MessageTemplate | None:
    """The wording in use for exactly this organization or group (not inherited)."""
    return _active(org, key, language, community).first()


def inherited_text(org, key, language, community) -> str | None:
    """For a group: the organization's wording it falls back to (None: the built-in text)."""
    if community is None:
        return None
    found = active_template(org, key, language, None)
    return found.text if found else None


def history(org, key, language, community=None):
    """The latest versions, newest first (the one in use among them)."""
    return (
        MessageTemplate.objects.for_org(org)
        .filter(key=key, language=language, community=community)
        .order_by("-created_at", "-pk")[:HISTORY_SIZE]
    )


def _summary(key, language, community) -> str:
    where = community.name if community is not None else _("the whole organization")
    return f"{TEMPLATES[key].label} · {dict(settings.LANGUAGES)[language]} · {where}"


def template_save(*, actor, key, language, text, community=None) -> MessageTemplate:
    """Use `text` for this message (in the group, or the organization when `community` is
    None) from now on; the wording used so far stays as a retired version."""
    _check_target(actor, key, language, community)
    text = check_text(key, text)
    org = actor.organization
    with transaction.atomic():
        current = _active(org, key, language, community).select_for_update().first()
        if current is not None and current.text == text:
            return current
        now = timezone.now()
        if current is not None:
            current.is_active, current.retired_at = False, now
            current.save(update_fields=["is_active", "retired_at"])
        row = MessageTemplate.objects.create(
            organization=org,
            key=key,
            language=language,
            community=community,
            text=text,
            created_at=now,
            created_by=str(actor.label)[:200],
        )
        audit.record(
            actor=actor,
            action="message_template.save",
            obj=row,
            summary=_summary(key, language, community),
            changes={"text": [current.text if current else "", text]},
        )
        template_store.forget(org)
    return row


def template_reset(*, actor, key, language, community=None) -> MessageTemplate:
    """Back to the built-in text (or, for a group, the organization's wording): the wording in
    use is retired, kept in the history."""
    _check_target(actor, key, language, community)
    org = actor.organization
    with transaction.atomic():
        current = _active(org, key, language, community).select_for_update().first()
        if current is None:
            raise Conflict(_("This message already uses the built-in text."))
        current.is_active, current.retired_at = False, timezone.now()
        current.save(update_fields=["is_active", "retired_at"])
        audit.record(
            actor=actor,
            action="message_template.reset",
            obj=current,
            summary=_summary(key, language, community),
            changes={"text": [current.text, ""]},
        )
        template_store.forget(org)
    return current


def template_restore(*, actor, version: MessageTemplate) -> MessageTemplate:
    """Use an earlier version's wording again (saved as a new version)."""
    if version.is_active:
        raise Conflict(_("This version is already in use."))
    return template_save(
        actor=actor,
        key=version.key,
        language=version.language,
        text=version.text,
        community=version.community,
    )


def starter_text(key: str, language: str) -> str:
    """The built-in text as a template to start from: composed with each variable standing in
    for itself. Empty where the built-in text cannot be written that way."""
    spec = TEMPLATES[key]
    context, stand_ins = dict(spec.example), {}
    for index, name in enumerate(spec.variables):
        value = context.get(name)
        if isinstance(value, str | Promise):
            context[name] = "{" + name + "}"
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            context[name] = 9001 + index  # a number no sentence holds, replaced below
            stand_ins[str(9001 + index)] = "{" + name + "}"
    text = compose(spec.kind, context, language=language)
    for stand_in, placeholder in stand_ins.items():
        text = text.replace(stand_in, placeholder)
    with translation.override(language):  # variables the composer derives (tier conditions)
        derived = spec.values(spec.example) or {}
    for name, value in derived.items():
        if name in spec.example and not isinstance(spec.example[name], dict | list):
            continue
        if value and str(value) in text:
            text = text.replace(str(value), "{" + name + "}")
    try:
        return check_text(key, text)
    except ValidationError:
        return ""


def real_names(org, community=None) -> dict:
    """{"member": ..., "group": ...}: names from the organization's own data, for examples."""
    real = {}
    for found in preview_context(org=org, community=community):
        real.update({k: v for k, v in (found or {}).items() if v})
    return real


def example_context(org, key, community=None, real=None) -> dict:
    """The message's example context, with a real member's and group's name of the
    organization where it has them (`real`: real_names(), when several are shown)."""
    spec = TEMPLATES[key]
    context = dict(spec.example)
    real = real_names(org, community) if real is None else real
    for name, meaning in spec.variables.items():
        if name not in context:
            continue
        if meaning is MEMBER_NAME and real.get("member"):
            context[name] = real["member"]
        elif meaning is GROUP_NAME and real.get("group"):
            context[name] = real["group"]
    return context


def preview(org, key, language, text, community=None) -> dict:
    """What the member would read: {"text": the wording filled in, or "" when it has errors,
    "errors": [...], "built_in": what the member reads without this wording}."""
    spec = TEMPLATES[key]
    context = example_context(org, key, community)
    errors, rendered = [], ""
    try:
        cleaned = check_text(key, text)
    except ValidationError as exc:
        errors = [str(m) for messages in exc.message_dict.values() for m in messages]
    else:
        with translation.override(language):
            values = spec.values(context)
            rendered = render(cleaned, values or {}, spec.optional)
    # without this wording: the built-in text, or for a group the organization's wording
    fallback_org = org if community is not None else None
    built_in = compose(spec.kind, context, language=language, org=fallback_org)
    return {"text": rendered, "errors": errors, "built_in": built_in}
