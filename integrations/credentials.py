"""Platform secrets the product uses again later (`BotCredential`), sealed with
core/secrets_box.py and never shown again: replacing them retires the old row, kept."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from core import secrets_box
from tenancy import audit
from tenancy.permissions import require

from .models import BotCredential


def live(org, platform) -> BotCredential | None:
    return BotCredential.objects.for_org(org).filter(platform=platform, retired_at=None).first()


def credential_set(*, actor, platform, secret: str, hint: str, audit_action: str) -> BotCredential:
    """Store (or replace) the organization's secret for `platform`, encrypted; audited with
    only its hint."""
    require(actor, "webhook.manage")
    org, now = actor.organization, timezone.now()
    with transaction.atomic():
        BotCredential.objects.for_org(org).filter(platform=platform, retired_at=None).update(
            retired_at=now
        )
        credential = BotCredential.objects.create(
            organization=org,
            platform=platform,
            sealed_secret=secrets_box.seal(secret),
            hint=hint,
            created_at=now,
            created_by_label=str(actor.label)[:200],
        )
        audit.record(actor=actor, action=audit_action, obj=credential, summary=hint)
    return credential


def sealed_fields_set(*, actor, platform, fields: dict, hint: str, audit_action: str):
    """Several secrets of one platform (WeCom: the app's secret, the callback's Token and
    EncodingAESKey), sealed together."""
    return credential_set(
        actor=actor,
        platform=platform,
        secret=json.dumps(fields),
        hint=hint,
        audit_action=audit_action,
    )


def sealed_fields(credential) -> dict | None:
    """The fields of `sealed_fields_set`, or None when they cannot be read (another key)."""
    if credential is None:
        return None
    opened = secrets_box.open_sealed(credential.sealed_secret)
    try:
        found = json.loads(opened) if opened else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
