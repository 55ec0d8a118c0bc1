"""The status stamps every connection keeps (Telegram's and WeCom's): its last error in words,
broken until an operator connects again, and the last update and send times the bot
connections page reads."""

from __future__ import annotations

from django.utils import timezone

from .models import ConnectionState

# Stamps the status page reads are written at most this often by busy paths.
STAMP_SECONDS = 30


def _rows(conn):
    return type(conn).objects.for_org(conn.organization_id).filter(pk=conn.pk)


def mark_broken(conn, message: str) -> None:
    """Nothing more is tried until an operator connects again."""
    now = timezone.now()
    _rows(conn).update(
        state=ConnectionState.BROKEN, last_error=message[:500], last_error_at=now, updated_at=now
    )
    conn.state, conn.last_error, conn.last_error_at = ConnectionState.BROKEN, message[:500], now


def note_error(conn, message: str) -> None:
    now = timezone.now()
    _rows(conn).update(last_error=message[:500], last_error_at=now)
    conn.last_error, conn.last_error_at = message[:500], now


def stamp(conn, field: str) -> None:
    """`last_update_at`, `last_send_at` (…), at most every STAMP_SECONDS."""
    now = timezone.now()
    last = getattr(conn, field)
    if last is not None and (now - last).total_seconds() < STAMP_SECONDS:
        return
    _rows(conn).update(**{field: now})
    setattr(conn, field, now)
