"""Probes, JSON, for orchestrators and load balancers.

`/livez` (liveness): the process is up and answers HTTP. It touches no database, no Redis, no
broker, so an outage of a dependency never gets a web container restarted: restarting would
not bring the database back, and pages that need no database (static, error pages) keep being
served. Always 200 while the process can answer.

`/readyz` (readiness, and `/healthz`, its old name, kept as an alias): is the database
answering, are the broker, the cache and the rate limiter's Redis reachable.

- 503 (`"status": "error"`) only when the database does not answer: nothing works without it.
- 200 with `"status": "degraded"` and the names in `"degraded"` when Redis-backed parts are
  down: pages and ingestion keep working (queued work is picked up by the periodic jobs, the
  cache is skipped, rate limits count per process), so a load balancer must keep the instance.
  Monitors that want to alert on it read the status, or ask `?strict=1` for a 503.
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ok"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    scheme = url.split(":", 1)[0]
    try:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        with Connection(url, transport_options=options, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": scheme, "error": type(exc).__name__}
    return {"ok": True, "transport": scheme}


def _check_cache() -> dict | None:
    from django.core.cache import cache

    available = getattr(cache, "available", None)
    if available is None:  # in-process cache: nothing to be down
        return None
    return {"ok": bool(available())}


def _check_rate_limits() -> dict | None:
    from . import ratelimit

    if not ratelimit.redis_url():
        return None
    return {"ok": ratelimit.redis_available()}


@never_cache
def livez(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    for name, check in (("cache", _check_cache), ("rate_limits", _check_rate_limits)):
        result = check()
        if result is not None:
            checks[name] = result
    degraded = [name for name, result in checks.items() if name != "database" and not result["ok"]]
    if not checks["database"]["ok"]:
        status, code = "error", 503
    elif degraded:
        status, code = "degraded", 503 if request.GET.get("strict") == "1" else 200
    else:
        status, code = "ok", 200
    body = {"status": status, **checks}
    if degraded:
        body["degraded"] = degraded
    return JsonResponse(body, status=code)


healthz = readyz  # the name before the split; load balancers configured with it keep working
