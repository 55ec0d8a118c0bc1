"""Size limits on what a request may carry (MAX_REQUEST_BYTES, MAX_JSON_DEPTH)."""

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 64


def max_request_bytes() -> int:
    return int(getattr(settings, "MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES))


def max_json_depth() -> int:
    return int(getattr(settings, "MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH))


def too_large_message() -> str:
    limit = max_request_bytes() // (1024 * 1024) or 1
    return _("The request is too large (at most %(mb)s MB).") % {"mb": limit}
