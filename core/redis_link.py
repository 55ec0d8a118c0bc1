"""A redis-py client for a feature that talks to Redis itself (rate limits, the flash-sale stock
gate), failing open the way the cache does (core/cache.py).

    link = RedisLink("RATELIMIT_REDIS_URL", scripts={"count": LUA}, log=log, what="Rate limits")
    client = link.client()          # None: no URL configured, or Redis failed a moment ago
    try:
        n = link.script(client, "count")(keys=[...], args=[...])
    except Exception as exc:
        link.failed(exc)            # leave Redis alone for a few seconds; warn once an outage
    else:
        link.ok()                   # "Redis is back" once after an outage

One client per URL (a connection pool shared by the process's threads), with short socket
timeouts, so an unreachable Redis costs one timeout and then nothing for `retry_after`
seconds. The URL is read from settings on every call, so tests (and a changed setting) reach
another Redis without a restart; the outage state is kept per URL.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

SOCKET_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5.0


class RedisLink:
    def __init__(
        self,
        setting: str,
        *,
        scripts: dict[str, str],
        log: logging.Logger,
        what: str,
        fallback: str,
        retry_after: float = RETRY_AFTER_SECONDS,
    ):
        self.setting = setting
        self.scripts = scripts
        self.log = log
        self.what = what  # "Rate limits": the subject of the warnings
        self.fallback = fallback  # what happens meanwhile, for the warning
        self.retry_after = retry_after
        self._clients: dict[str, object] = {}
        self._down_until: dict[str, float] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def url(self) -> str:
        return getattr(settings, self.setting, "") or ""

    def client(self):
        """The client for the configured URL, or None (no URL, or it failed a moment ago)."""
        url = self.url()
        if not url or time.monotonic() < self._down_until.get(url, 0.0):
            return None
        client = self._clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
                socket_timeout=SOCKET_TIMEOUT_SECONDS,
            )
            client._qunyun_scripts = {
                name: client.register_script(source) for name, source in self.scripts.items()
            }
            with self._lock:
                client = self._clients.setdefault(url, client)
        return client

    @staticmethod
    def script(client, name: str):
        return client._qunyun_scripts[name]

    def failed(self, exc: Exception) -> None:
        url = self.url()
        with self._lock:
            self._down_until[url] = time.monotonic() + self.retry_after
            first = url not in self._warned
            self._warned.add(url)
        if first:
            self.log.warning(
                "%s: Redis is unreachable (%s); %s until it is back.",
                self.what,
                type(exc).__name__,
                self.fallback,
            )

    def ok(self) -> None:
        url = self.url()
        if url in self._warned:
            with self._lock:
                self._warned.discard(url)
            self.log.warning("%s: Redis is back.", self.what)

    def available(self) -> bool:
        """For the health check: does Redis answer right now?"""
        client = self.client()
        if client is None:
            return False
        try:
            client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            self.failed(exc)
            return False
        return True

    def reset(self) -> None:
        """Tests: forget outages."""
        with self._lock:
            self._down_until.clear()
            self._warned.clear()
