from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from core import ratelimit
from core.net import client_address

from .actors import Actor
from .services import api_key_authenticate

AUTH_FAILURES = "api-auth-failures"


def _auth_failure_rate() -> tuple[int, int]:
    return ratelimit.parse_rate(getattr(settings, "API_AUTH_FAILURE_RATE", "60/min"))


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`. The key decides the organization and the role.

    Failed authentications are counted per client address (API_AUTH_FAILURE_RATE): past the
    limit, that address gets 429 for any key, the right one included, until the window ends,
    so guessing keys earns nothing but 429s."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        address = client_address(request) or "unknown"
        limit, window = _auth_failure_rate()
        decision = ratelimit.peek(AUTH_FAILURES, address, limit=limit, window=window)
        if not decision.allowed:
            self._throttled(request, decision, window)
        if len(header) != 2:
            self._fail(request, address, _("Malformed Authorization header."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            self._fail(request, address, _("Invalid API key."))
        key = api_key_authenticate(raw)
        if key is None:
            self._fail(request, address, _("Invalid or revoked API key."))
        return (None, Actor.for_api_key(key))

    def _fail(self, request, address, message):
        limit, window = _auth_failure_rate()
        decision = ratelimit.hit(AUTH_FAILURES, address, limit=limit, window=window)
        if not decision.allowed:
            self._throttled(request, decision, window)
        raise exceptions.AuthenticationFailed(message)

    def _throttled(self, request, decision, window):
        ratelimit.remember(request, decision, window)
        raise exceptions.Throttled(
            wait=decision.retry_after, detail=str(_("Too many failed authentications."))
        )

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Qunyun API key"}


class ApiKeyRateThrottle(throttling.BaseThrottle):
    """Per-key request rate (API_THROTTLE_RATE); anonymous calls are limited per address.

    One atomic Redis counter per key and window, shared by every web process (core.ratelimit):
    the limit holds however many requests race for the last slots. Every response says where
    the caller stands (`RateLimit-Limit`, `-Remaining`, `-Reset`), a 429 also `Retry-After`."""

    scope = "api_key"
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        limit, window = ratelimit.parse_rate(self.THROTTLE_RATES[self.scope])
        actor = request.auth
        if isinstance(actor, Actor) and actor.api_key is not None:
            ident = f"key:{actor.api_key.pk}"
        else:
            ident = f"ip:{client_address(request) or 'unknown'}"
        self.decision = ratelimit.hit(self.scope, ident, limit=limit, window=window)
        ratelimit.remember(request, self.decision, window)
        return self.decision.allowed

    def wait(self):
        return self.decision.retry_after
