"""Secrets the product must use again later (a bot's token), encrypted at rest with Fernet.

The key comes from FIELD_ENCRYPTION_KEY (a Fernet key) or, when that is unset, is derived from
SECRET_KEY: rotating SECRET_KEY then means entering the stored tokens again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = getattr(settings, "FIELD_ENCRYPTION_KEY", "")
    if not key:
        digest = hashlib.sha256(b"qunyun-secrets-box:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def open_sealed(token: str) -> str | None:
    """The value, or None when it cannot be read (another key)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
