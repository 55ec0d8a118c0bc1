"""One long poller at a time. Telegram answers a second `getUpdates` on the same bot with a
409 and both pollers then fight over the updates, so `manage.py telegram_poll` holds a lease
in the database: the first process renews it on every pass; another one started by mistake
(a second replica, `make run` beside docker compose) stands by and takes over within a lease
once the first stops or dies. A conditional UPDATE takes or renews it, so it holds on any
database and behind PgBouncer in transaction mode (a session advisory lock would not)."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from tenancy.system import system_db

from .models import PollerLease


def holder_name() -> str:
    """This process, in words an operator can find: host, process id and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def hold(name: str, holder: str, seconds: float) -> bool:
    """Take the lease `name` for `seconds` from now if it is free or ours; False while another
    holder's lease runs."""
    db, now = system_db(), timezone.now()
    PollerLease.objects.using(db).get_or_create(name=name, defaults={"expires_at": now})
    taken = (
        PollerLease.objects.using(db)
        .filter(Q(holder=holder) | Q(expires_at__lte=now), name=name)
        .update(holder=holder, expires_at=now + timedelta(seconds=seconds))
    )
    return taken == 1


def holder_of(name: str) -> PollerLease | None:
    """The lease as it stands, when someone holds it now."""
    lease = PollerLease.objects.using(system_db()).filter(name=name).first()
    return lease if lease and lease.holder and lease.expires_at > timezone.now() else None


def release(name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop): a standby takes over on its next try."""
    PollerLease.objects.using(system_db()).filter(name=name, holder=holder).update(
        holder="", expires_at=timezone.now()
    )
