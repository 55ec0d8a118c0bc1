"""Secrets handed to people once: API keys and invitation tokens.

Both are stored as a keyed SHA-256 (HMAC), not with a password hasher: they are long random
strings, so a slow hash buys nothing and checking a key must cost well under a millisecond.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

API_KEY_PREFIX = "qy_"


def keyed_hash(raw: str) -> str:
    return hmac.new(settings.API_KEY_HASH_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def new_api_key() -> tuple[str, str]:
    """Return (prefix, full key). The prefix is shown in lists; the full key only once."""
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8


def prefix_of(raw_key: str) -> str | None:
    """The lookup prefix of a presented key, or None if it is not shaped like one of ours."""
    if (
        not raw_key.startswith(API_KEY_PREFIX)
        or raw_key[_PREFIX_LENGTH : _PREFIX_LENGTH + 1] != "_"
    ):
        return None
    return raw_key[:_PREFIX_LENGTH]


def matches(raw: str, stored_hash: str) -> bool:
    return hmac.compare_digest(keyed_hash(raw), stored_hash)


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)
