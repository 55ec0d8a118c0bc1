"""Telegram Mini App openings: verifying `initData` and the organization's bot token.

Telegram signs the data it hands a Mini App with the bot's token
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
    secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token)
    hash       = hex(HMAC_SHA256(key=secret_key, msg=data_check_string))
where data_check_string is every received field but `hash`, as "key=value", sorted by key,
joined by newlines. `auth_date` older than `max_age` seconds is refused (a replayed opening).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core import secrets_box
from tenancy.permissions import require

from .credentials import credential_set
from .models import BotCredential
from .platforms import Platform


class InitDataRefused(Exception):
    """`reason`: malformed, bad_hash, stale or no_user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sign_init_data(fields: dict, bot_token: str) -> str:
    """`fields` plus their hash, as Telegram would send them (tests, the demo)."""
    return urlencode({**fields, "hash": _hash(fields, bot_token)})


def _hash(fields: dict, bot_token: str) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def verify_init_data(init_data: str, bot_token: str, *, max_age: int, now=None) -> dict:
    """The Telegram user (a dict with at least `id`) of a genuine, fresh `initData`."""
    return verified_fields(init_data, bot_token, max_age=max_age, now=now)["user"]


def verified_fields(init_data: str, bot_token: str, *, max_age: int, now=None) -> dict:
    """Every field of a genuine, fresh `initData` (`auth_date`, `start_param` when the Mini
    App link carried one, …), `user` parsed (a dict with at least `id`)."""
    try:
        fields = dict(parse_qsl(init_data or "", keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise InitDataRefused("malformed") from None
    received = fields.pop("hash", "")
    if not received or not hmac.compare_digest(received, _hash(fields, bot_token)):
        raise InitDataRefused("bad_hash")
    try:
        auth_date = int(fields.get("auth_date", ""))
    except ValueError:
        raise InitDataRefused("malformed") from None
    if (now if now is not None else time.time()) - auth_date > max_age:
        raise InitDataRefused("stale")
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        raise InitDataRefused("no_user") from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise InitDataRefused("no_user")
    return {**fields, "user": user}


def bot_token(org) -> str | None:
    """The organization's Telegram bot token, or None when none is set."""
    credential = (
        BotCredential.objects.for_org(org)
        .filter(platform=Platform.TELEGRAM, retired_at=None)
        .first()
    )
    return secrets_box.open_sealed(credential.sealed_secret) if credential else None


def telegram_token_set(*, actor, token: str) -> BotCredential:
    """Store (or replace) the organization's Telegram bot token, encrypted; audited."""
    require(actor, "webhook.manage")
    token = (token or "").strip()
    if not (20 <= len(token) <= 100) or ":" not in token or not token.isascii():
        raise ValidationError(
            {"token": [_("Paste the token BotFather gave you, like 123456:ABC-DEF….")]}
        )
    return credential_set(
        actor=actor,
        platform=Platform.TELEGRAM,
        secret=token,
        hint=token[-4:],
        audit_action="integration.telegram_token",
    )
