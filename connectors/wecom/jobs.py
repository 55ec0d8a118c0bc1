"""The WeCom connector's periodic work (connectors/tasks.py runs it per organization)."""

from __future__ import annotations

from django.utils.translation import override

from . import groups, sender, services
from .client import TOKEN_REFUSED, Unreachable, WeComClient, WeComError, in_words


def sync(org, *, client_factory=WeComClient) -> dict:
    """Every customer group's details and members (on connection, and nightly), and their
    welcome material."""
    conn, client = services.connected(org, client_factory)
    if client is None:
        return {}
    with override(org.default_language), client:
        try:
            counts = groups.sync_all(conn, client)
            counts["welcomes"] = groups.sync_welcomes(conn, client)
        except WeComError as exc:
            if exc.errcode in TOKEN_REFUSED:
                services.mark_broken(conn, services.refused_message(exc))
            else:
                services.note_error(conn, in_words(exc))
            return {"error": exc.errcode}
        except Unreachable as exc:
            services.note_error(conn, services.unreachable_message(exc))
            return {"error": "network"}
    return counts


def check(org, *, client_factory=WeComClient) -> dict:
    """The waiting send tasks' results, and the welcome material after a change of wording."""
    counts = sender.check_sends(org, client_factory=client_factory)
    conn, client = services.connected(org, client_factory)
    if client is not None:
        with override(org.default_language), client:
            try:
                counts["welcomes"] = groups.sync_welcomes(conn, client)
            except (WeComError, Unreachable) as exc:
                services.note_error(conn, in_words(exc))
    return counts
