"""Long polling (`manage.py telegram_poll`): for installs without a public https address.

One process serves every organization whose connection is in polling mode: it asks Telegram
for each one's updates (`getUpdates` with the stored offset, so a restart neither loses nor
repeats an update), feeds them to the ingestion, and carries out every connected
organization's pending actions (webhook mode too: the beat does the same every minute, and the
outbox's leases keep two senders from taking the same action).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from telegram import error

from tenancy.models import Organization
from tenancy.scope import org_scope
from tenancy.system import system_db

from .. import lease
from ..models import ConnectionMode, ConnectionState, TelegramConnection
from . import sender, services, updates
from .client import ALLOWED_UPDATES, TelegramClient, in_words, retry_after_seconds

log = logging.getLogger(__name__)

POLLER_LEASE = "telegram-poller"


def connected_orgs(mode=None) -> list[int]:
    """Organizations with a working connection (system work across organizations)."""
    qs = TelegramConnection.objects.unscoped().using(system_db()).exclude(mode=ConnectionMode.OFF)
    qs = qs.exclude(state=ConnectionState.BROKEN)
    if mode:
        qs = qs.filter(mode=mode)
    return list(qs.order_by("organization_id").values_list("organization_id", flat=True))


def poll_once(org, *, timeout=0, client_factory=TelegramClient) -> dict:
    """One `getUpdates` for the organization, applied. {"updates", "events"} or {"error"}."""
    conn = services.connection(org)
    if conn is None or conn.mode != ConnectionMode.POLLING:
        return {"updates": 0, "events": 0}
    token = services.usable_token(conn)
    if not token:
        return {"updates": 0, "events": 0}
    try:
        with client_factory(token) as client:
            found = client.call(
                "get_updates",
                offset=conn.update_offset or None,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
            raw = [u.to_dict() for u in found]
            bot = client.bot
    except error.InvalidToken as exc:
        services.mark_broken(conn, services.token_refused_message(exc))
        return {"error": "token"}
    except error.Conflict as exc:
        services.note_error(conn, services.conflict_message(exc))
        return {"error": "conflict"}
    except error.RetryAfter as exc:
        time.sleep(min(retry_after_seconds(exc), 30))
        return {"error": "retry_after"}
    except error.TelegramError as exc:
        services.note_error(conn, in_words(exc))
        return {"error": "network"}
    try:
        result = updates.handle_updates(conn, raw, bot)
    except Exception:  # noqa: BLE001 - one bad update must not stop the others for ever
        log.exception("telegram: a batch of updates failed; applying them one by one")
        result = {"events": 0, "offset": conn.update_offset}
        for one in raw:
            try:
                found = updates.handle_updates(conn, [one], bot)
            except Exception:  # noqa: BLE001
                log.exception("telegram: update %s skipped", one.get("update_id"))
                services.note_error(conn, services.skipped_message(one.get("update_id")))
                found = {"events": 0, "offset": int(one.get("update_id", 0)) + 1}
            result["events"] += found["events"]
            result["offset"] = max(result["offset"], found["offset"])
    services.save_offset(conn, result["offset"])
    return {"updates": len(raw), "events": result["events"]}


def run_once(*, timeout=0, client_factory=TelegramClient) -> dict:
    """A pass over every organization: poll, then send."""
    totals = {"updates": 0, "events": 0, "done": 0, "failed": 0, "held": 0}
    polling = set(connected_orgs(ConnectionMode.POLLING))
    for org_id in connected_orgs():
        org = Organization.objects.get(pk=org_id)
        with org_scope(org):
            try:
                if org_id in polling:
                    found = poll_once(org, timeout=timeout, client_factory=client_factory)
                    totals["updates"] += found.get("updates", 0)
                    totals["events"] += found.get("events", 0)
                sent = sender.send_due(org, client_factory=client_factory)
            except Exception:  # noqa: BLE001 - one organization's failure stops no other
                log.exception("telegram: organization %s failed", org_id)
                continue
        for key, value in sent.items():
            totals[key] += value
    return totals


def run_forever(*, client_factory=TelegramClient, stop=lambda: False, holder=None) -> None:
    """Poll and send until stopped, while this process holds the poller's lease
    (connectors/lease.py); without it, stand by and try again every few seconds. With one
    polling organization the long poll waits up to TELEGRAM_POLL_TIMEOUT seconds for an update;
    with several, each is asked without waiting and the loop pauses a second between passes
    (pending actions go out at least that often)."""
    holder = holder or lease.holder_name()
    standing_by = False
    try:
        while not stop():
            if not lease.hold(POLLER_LEASE, holder, settings.TELEGRAM_POLLER_LEASE_SECONDS):
                if not standing_by:
                    running = lease.holder_of(POLLER_LEASE)
                    log.warning(
                        "telegram: another poller runs (%s); this one stands by",
                        running.holder if running else "?",
                    )
                standing_by = True
                time.sleep(settings.TELEGRAM_POLLER_STANDBY_SECONDS)
                continue
            if standing_by:
                log.info("telegram: the other poller stopped; this one takes over")
                standing_by = False
            polling = connected_orgs(ConnectionMode.POLLING)
            timeout = settings.TELEGRAM_POLL_TIMEOUT if len(polling) == 1 else 0
            started = time.monotonic()
            totals = run_once(timeout=timeout, client_factory=client_factory)
            if totals["updates"] or totals["done"] or totals["failed"]:
                log.info("telegram: %s", totals)
            if time.monotonic() - started < 1:
                time.sleep(1)
    finally:
        lease.release(POLLER_LEASE, holder)
