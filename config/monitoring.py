"""Prometheus metrics at `/metrics`, for the operator of a Qunyun installation (not for tenants:
every figure is summed over all organizations, none names one).

Off unless METRICS_TOKEN or METRICS_ALLOWED_NETWORKS is set (404 otherwise); see settings.
What it answers, read at scrape time, so every web process gives the same figures:

- the outbox: actions waiting (pending) or handed out (leased) per kind, and the age of the
  oldest pending one per kind;
- webhooks: deliveries waiting or retrying, the oldest due one, attempts delivered and failed;
- Celery: messages waiting per queue and the age of the oldest, the wait of the last task each
  queue started (task lag), when each scheduled job last succeeded;
- events ingested (accepted, duplicate, rejected);
- rollups: groups-days waiting to be recomputed and the age of the last refresh.

Counters live in the cache (core.counters), shared by every process; the rest comes from the
database (small partial indexes) and the broker.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from core import counters
from integrations.models import (
    Action,
    ActionKind,
    ActionStatus,
    DeliveryStatus,
    WebhookDelivery,
)
from metrics.models import DirtyDay
from tenancy.system import system_db

logger = logging.getLogger(__name__)
LAG_KEY = "qunyun:celery:lag:{queue}"
SUCCESS_KEY = "qunyun:celery:success:{task}"
ROLLUP_TASK = "metrics.tasks.refresh_rollups"
_REDIS_PRIORITY_SEP = "\x06\x16"


# --- written by the workers (config/celery.py) ------------------------------------------------


def task_started(queue: str, waited: float) -> None:
    try:
        cache.set(LAG_KEY.format(queue=queue), max(0.0, waited), timeout=None)
    except Exception:  # noqa: BLE001 - monitoring never breaks a task
        logger.debug("task lag not recorded", exc_info=True)


def task_succeeded(task_name: str) -> None:
    try:
        cache.set(SUCCESS_KEY.format(task=task_name), time.time(), timeout=None)
    except Exception:  # noqa: BLE001
        logger.debug("task success not recorded", exc_info=True)


# --- read at scrape time ----------------------------------------------------------------------


def _queues() -> list[str]:
    return [q.strip() for q in settings.WORKER_QUEUES.split(",") if q.strip()]


def _scheduled_tasks() -> list[str]:
    return sorted({*settings.TENANT_JOBS, "tenancy.tasks.fan_out"})


def _age(then, now) -> float:
    return max(0.0, (now - then).total_seconds())


def broker_queues() -> dict[str, tuple[int, float | None]]:
    """{queue: (messages waiting, age of the oldest in seconds or None)}; {} when the broker
    cannot say (memory broker, or it is down)."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            return _redis_queues(url)
        if url.startswith("filesystem://"):
            return _folder_queues(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    except Exception:  # noqa: BLE001 - a broker that is down shows as missing figures
        logger.warning("broker queues not read", exc_info=True)
    return {}


def _redis_queues(url: str) -> dict:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    now, found = time.time(), {}
    try:
        for queue in _queues():
            names = [queue] + [f"{queue}{_REDIS_PRIORITY_SEP}{p}" for p in (3, 6, 9)]
            waiting = sum(client.llen(name) for name in names)
            oldest = None
            for name in names:
                head = client.lindex(name, -1)  # kombu pushes left and pops right
                queued_at = _queued_at(head)
                if queued_at is not None:
                    oldest = max(oldest or 0.0, now - queued_at)
            found[queue] = (waiting, oldest)
    finally:
        client.close()
    return found


def _queued_at(raw) -> float | None:
    if not raw:
        return None
    try:
        value = json.loads(raw).get("headers", {}).get("qunyun_queued_at")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def _folder_queues(folder: Path) -> dict:
    now, found = time.time(), {}
    for queue in _queues():
        files = list(folder.glob(f"*.{queue}.msg")) if folder.is_dir() else []
        oldest = max((now - f.stat().st_mtime for f in files), default=None)
        found[queue] = (len(files), oldest)
    return found


class QunyunCollector:
    def collect(self):
        now = timezone.now()
        yield from self._outbox(now)
        yield from self._webhooks(now)
        yield from self._celery()
        yield from self._events()
        yield from self._rollups()

    def _outbox(self, now):
        waiting = GaugeMetricFamily(
            "qunyun_outbox_actions",
            "Actions not finished yet, by kind and status (pending: waiting for a bot; "
            "leased: handed out, not acknowledged yet).",
            labels=["kind", "status"],
        )
        oldest = GaugeMetricFamily(
            "qunyun_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending action, by kind (0 when none is pending).",
            labels=["kind"],
        )
        rows = (
            Action.objects.unscoped()
            .using(system_db())
            .filter(status__in=[ActionStatus.PENDING, ActionStatus.LEASED])
            .values("kind", "status")
            .annotate(n=Count("pk"), first=Min("created_at"))
        )
        counts = {(r["kind"], r["status"]): r for r in rows}
        for kind in ActionKind.values:
            for status in (ActionStatus.PENDING, ActionStatus.LEASED):
                row = counts.get((kind, status))
                waiting.add_metric([kind, status], row["n"] if row else 0)
            pending = counts.get((kind, ActionStatus.PENDING))
            oldest.add_metric([kind], _age(pending["first"], now) if pending else 0.0)
        yield waiting
        yield oldest

    def _webhooks(self, now):
        waiting = GaugeMetricFamily(
            "qunyun_webhook_deliveries",
            "Webhook deliveries not finished, by status (pending: not tried yet; retrying: "
            "failed at least once, trying again).",
            labels=["status"],
        )
        overdue = GaugeMetricFamily(
            "qunyun_webhook_oldest_due_age_seconds",
            "How long the most overdue delivery has been due (0 when none is).",
        )
        rows = (
            WebhookDelivery.objects.unscoped()
            .using(system_db())
            .filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
            .values("status")
            .annotate(n=Count("pk"), first=Min("next_attempt_at"))
        )
        counts = {r["status"]: r for r in rows}
        firsts = [r["first"] for r in counts.values() if r["first"] and r["first"] <= now]
        for status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
            waiting.add_metric([status], counts[status]["n"] if status in counts else 0)
        overdue.add_metric([], _age(min(firsts), now) if firsts else 0.0)
        attempts = CounterMetricFamily(
            "qunyun_webhook_attempts",
            "Webhook delivery attempts by result (failed: an error, a timeout or a non-2xx).",
            labels=["result"],
        )
        for result, n in counters.read(
            "webhook_attempts", "result", ["delivered", "failed"]
        ).items():
            attempts.add_metric([result], n)
        yield waiting
        yield overdue
        yield attempts

    def _celery(self):
        queued = GaugeMetricFamily(
            "qunyun_celery_queue_length", "Tasks waiting in the broker, by queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "qunyun_celery_queue_oldest_age_seconds",
            "How long the oldest waiting task has waited, by queue.",
            labels=["queue"],
        )
        for queue, (n, age) in broker_queues().items():
            queued.add_metric([queue], n)
            if age is not None:
                oldest.add_metric([queue], age)
        lag = GaugeMetricFamily(
            "qunyun_celery_task_lag_seconds",
            "How long the last task each queue started had waited in the broker.",
            labels=["queue"],
        )
        succeeded = GaugeMetricFamily(
            "qunyun_celery_task_last_success_timestamp_seconds",
            "When each scheduled job last finished without error (Unix time).",
            labels=["task"],
        )
        lags = cache.get_many([LAG_KEY.format(queue=q) for q in _queues()])
        for queue in _queues():
            value = lags.get(LAG_KEY.format(queue=queue))
            if value is not None:
                lag.add_metric([queue], float(value))
        tasks = _scheduled_tasks()
        successes = cache.get_many([SUCCESS_KEY.format(task=t) for t in tasks])
        for task in tasks:
            value = successes.get(SUCCESS_KEY.format(task=task))
            if value is not None:
                succeeded.add_metric([task], float(value))
        yield queued
        yield oldest
        yield lag
        yield succeeded

    def _events(self):
        events = CounterMetricFamily(
            "qunyun_events_ingested",
            "Events received from the bots, by result (accepted: new and applied; duplicate: "
            "seen before; rejected: invalid).",
            labels=["result"],
        )
        read = counters.read("events", "result", ["accepted", "duplicate", "rejected"])
        for result, n in read.items():
            events.add_metric([result], n)
        yield events

    def _rollups(self):
        dirty = DirtyDay.objects.unscoped().using(system_db()).count()
        yield GaugeMetricFamily(
            "qunyun_rollup_dirty_days",
            "Group-days whose metric rollups wait to be recomputed.",
            value=dirty,
        )
        last = cache.get(SUCCESS_KEY.format(task=ROLLUP_TASK))
        stale = GaugeMetricFamily(
            "qunyun_rollup_staleness_seconds",
            "Seconds since rollups were last refreshed while some wait (0: none waits). Without "
            "any refresh yet, the series is absent.",
        )
        if dirty == 0:
            stale.add_metric([], 0.0)
        elif last is not None:
            stale.add_metric([], max(0.0, time.time() - float(last)))
        yield stale


def _allowed(request) -> bool:
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return False
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return False
    if networks:
        try:
            peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if not any(peer in ipaddress.ip_network(n.strip(), strict=False) for n in networks):
            return False
    return True


@never_cache
def metrics_view(request):
    """`GET /metrics` in Prometheus' text format; 404 to anyone not allowed (nothing tells
    that the endpoint exists)."""
    if request.method != "GET" or not _allowed(request):
        raise Http404
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QunyunCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
