"""Every request has an id: taken from the `X-Request-ID` header a proxy set (when it looks like
one), or made up. It is sent back in `X-Request-ID`, put in the API's error body, on every log
line of the request (`RequestIdFilter`), on Sentry events, and travels with the Celery tasks the
request queues, whose log lines carry it too (config/celery.py)."""

from __future__ import annotations

import logging
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_current: ContextVar[str | None] = ContextVar("qunyun_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_id_scope(value: str | None):
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def _tag_error_reports(value: str) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - sentry-sdk is a dependency
        return
    sentry_sdk.get_isolation_scope().set_tag("request_id", value)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(_META_KEY, "")
        value = given if _ACCEPTABLE.match(given) else new_request_id()
        request.request_id = value
        _tag_error_reports(value)
        with request_id_scope(value):
            response = self.get_response(request)
        response[HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or "-") to every record, for formatters to show."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)  # django.request's lines, after the view
            record.request_id = current_request_id() or getattr(request, "request_id", None) or "-"
        return True
