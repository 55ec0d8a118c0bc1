"""Counters shared by every process (web, workers), kept in the cache (Redis in production):
events ingested, webhook deliveries tried. The Prometheus endpoint (config/monitoring.py)
reads them. Counting is best effort: a cache that is down loses counts, never a request."""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)
PREFIX = "qunyun:counter:"


def key(name: str, **labels) -> str:
    return PREFIX + name + "".join(f"|{k}={v}" for k, v in sorted(labels.items()))


def incr(name: str, n: int = 1, **labels) -> None:
    if n <= 0:
        return
    k = key(name, **labels)
    try:
        cache.add(k, 0, timeout=None)
        cache.incr(k, n)
    except Exception:  # noqa: BLE001 - counting must never break the work it counts
        logger.warning("counter %s not incremented", k, exc_info=True)


def read(name: str, label: str, values) -> dict[str, int]:
    """{label value: count} for the given values (0 for those never counted)."""
    keys = {v: key(name, **{label: v}) for v in values}
    try:
        found = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001
        logger.warning("counters %s not read", name, exc_info=True)
        found = {}
    return {v: int(found.get(k) or 0) for v, k in keys.items()}
