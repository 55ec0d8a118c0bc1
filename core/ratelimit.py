"""Rate limits that hold under concurrency and are shared by every process.

A limit is a counter per (name, identity) that lives for a window: the first hit starts the
window, the key expires when it ends. Counting and reading happen in one Lua script, so a
decision is one Redis round trip and atomic: 32 threads in 8 processes racing for the last
slot get exactly one "yes" between them (a read-then-write cache counter lets them all through).

    decision = ratelimit.hit("api", f"key:{key.pk}", limit=1200, window=60)
    if not decision.allowed: ...  # decision.retry_after seconds

`hit(..., cost=0)` reads without counting; `cost=-1` gives a slot back (a login that turned out
to be right is not a failure); `reset` forgets the identity.

Without Redis (`make run`) and while Redis is unreachable, the counters are kept per process:
the limit still holds within each worker, requests are never refused because the limiter is
down, and one warning per outage says so (Redis is skipped for a few seconds after a failure,
so an outage does not add a connection timeout to every request).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from .redis_link import RedisLink

log = logging.getLogger(__name__)

PREFIX = "qunyun:rl"
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
UNITS |= {"hour": 3600, "d": 86400, "day": 86400}

# KEYS[1] the counter; ARGV[1] the window in ms, ARGV[2] the cost. Returns {count, ms left}.
_SCRIPT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window ends

    @property
    def retry_after(self) -> int:
        return 0 if self.allowed else max(1, self.reset)

    def headers(self, window: int) -> dict[str, str]:
        """IETF draft `RateLimit-*` fields (and `Retry-After` when refused)."""
        fields = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={window}",
        }
        if not self.allowed:
            fields["Retry-After"] = str(self.retry_after)
        return fields


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" → (1200, 60); "5/15min" → (5, 900)."""
    count, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :].strip().lower()
    if unit not in UNITS:
        raise ValueError(f"not a rate: {rate!r}")
    return int(count), int(digits or 1) * UNITS[unit]


# --- backends ----------------------------------------------------------------------------------


class _Local:
    """Per-process counters, for no Redis or Redis down."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[str, tuple[int, float]] = {}

    def incr(self, key: str, window: int, cost: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._counters.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window
            count += cost
            self._counters[key] = (count, ends)
            if len(self._counters) > 50_000:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        return count, ends - now

    def delete(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counters.clear()


_local = _Local()
_link = RedisLink(
    "RATELIMIT_REDIS_URL",
    scripts={"count": _SCRIPT},
    log=log,
    what="Rate limits",
    fallback="counting per process",
)


def redis_url() -> str:
    return _link.url()


def redis_available() -> bool:
    """For the health check: is the limiter sharing its counters right now?"""
    return _link.available()


def _key(name: str, ident: str) -> str:
    if len(ident) > 64 or not ident.isascii():
        ident = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{PREFIX}:{name}:{ident}"


def _count(key: str, window: int, cost: int) -> tuple[int, float]:
    client = _link.client()
    if client is not None:
        try:
            count, ms_left = _link.script(client, "count")(keys=[key], args=[window * 1000, cost])
        except Exception as exc:  # noqa: BLE001 - connection, timeout, readonly replica …
            _link.failed(exc)
        else:
            _link.ok()
            return int(count), int(ms_left) / 1000
    return _local.incr(key, window, cost)


# --- the API ---------------------------------------------------------------------------------


def hit(name: str, ident: str, *, limit: int, window: int, cost: int = 1) -> Decision:
    """Count `cost` against (name, ident) and say whether it is within `limit` per `window`."""
    count, seconds_left = _count(_key(name, ident), window, cost)
    allowed = count <= limit if cost > 0 else count < limit
    return Decision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, limit - count),
        reset=max(0, int(seconds_left + 0.999)),
    )


def peek(name: str, ident: str, *, limit: int, window: int) -> Decision:
    """Would one more be allowed? Counts nothing."""
    return hit(name, ident, limit=limit, window=window, cost=0)


def refund(name: str, ident: str, *, window: int) -> None:
    _count(_key(name, ident), window, -1)


def reset(name: str, ident: str) -> None:
    key = _key(name, ident)
    _local.delete(key)
    client = _link.client()
    if client is not None:
        try:
            client.delete(key)
        except Exception as exc:  # noqa: BLE001
            _link.failed(exc)


def reset_all() -> None:
    """Tests: forget every counter (per-process ones and the Redis ones)."""
    _local.clear()
    _link.reset()
    client = _link.client()
    if client is not None:
        try:
            for key in client.scan_iter(match=f"{PREFIX}:*", count=1000):
                client.delete(key)
        except Exception:  # noqa: BLE001, S110 - nothing to forget when Redis is down
            pass


# --- responses ---------------------------------------------------------------------------------

REQUEST_ATTRIBUTE = "_qunyun_ratelimit"


def remember(request, decision: Decision, window: int) -> None:
    """Put the decision's headers on this request's response (see RateLimitHeadersMiddleware).
    `request` may be DRF's Request or Django's HttpRequest."""
    target = getattr(request, "_request", request)
    setattr(target, REQUEST_ATTRIBUTE, decision.headers(window))


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in (getattr(request, REQUEST_ATTRIBUTE, None) or {}).items():
            if name not in response:
                response[name] = value
        return response
