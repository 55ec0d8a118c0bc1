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
