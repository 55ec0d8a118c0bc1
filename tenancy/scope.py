"""The organization in scope for the current request or task.

Tenant managers read it and refuse to run without it. It is set in one place per entry point:
the dashboard middleware, the API base view, `tenant_task` for Celery, and `org_scope` for
management commands and tests.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_current_org: ContextVar = ContextVar("qunyun_current_org", default=None)


class TenantScopeError(RuntimeError):
    """A tenant model was queried with no organization in scope."""


def current_org():
    return _current_org.get()


def set_current_org(org):
    """Set the scope and return the token for `reset_current_org`."""
    return _current_org.set(org)


def reset_current_org(token) -> None:
    _current_org.reset(token)


@contextmanager
def org_scope(org):
    token = _current_org.set(org)
    try:
        yield org
    finally:
        _current_org.reset(token)


def scoped_stream(org, iterable):
    """Iterate `iterable` with `org` in scope for each step: for StreamingHttpResponse, whose
    generator runs after the view (and the middleware) has left the organization's scope.
    Without it the export's queries would run unscoped, i.e. with row-level security's bypass
    value. The scope is set around each `next()` only, never across a `yield`, so the caller's
    scope is untouched between chunks."""
    iterator = iter(iterable)
    while True:
        token = _current_org.set(org)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _current_org.reset(token)
        yield chunk
