"""The client's address, the same for every limit (API, login, password reset, django-axes).

With no proxy in front (`PROXY_COUNT=0`) it is the socket's peer, `REMOTE_ADDR`: a client can
put anything in `X-Forwarded-For`, so that header is not read at all. Behind `PROXY_COUNT`
trusted proxies, each of which appends the address it saw to `X-Forwarded-For`, the client is
the entry that many places from the right; anything further left was written by the client.
"""

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """None when the request has no address at all (e.g. a test client's force_login)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(forwarded) >= proxies:
            found = _address(forwarded[-proxies])
            if found:
                return found
    return _address(remote)
