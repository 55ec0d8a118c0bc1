"""Django's Redis cache, for a cache that may go away.

The cache only ever holds what can be recomputed (debounce marks, memoised reads), so an
unreachable Redis must not turn a page or an API call into a 500: every operation that fails
with a Redis or socket error is logged (one warning per outage) and answers as a miss would:
`get` the default, `add` False (nobody gets a lock that cannot be held), writes nothing. After a
failure Redis is left alone for a few seconds, so an outage does not add a connection timeout
to every call. `incr`/`decr` on a dead cache raise ValueError, as for a missing key.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0


class _Down(Exception):
    pass


class _ReusedClients(RedisCacheClient):
    """Django makes a new `redis.Redis` for every operation, and redis-py fills its table of
    response callbacks each time: that costs more than the round trip itself. One client per
    connection pool instead (a client is safe to share between threads; the pool is the
    process's and starts afresh after a fork)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, params)
        self._class = _ReusedClients
        self._down_until = 0.0
        self._warned = False

    def _call(self, method, *args, **kwargs):
        import redis

        if time.monotonic() < self._down_until:
            raise _Down
        try:
            result = method(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            if not self._warned:
                self._warned = True
                log.warning(
                    "Cache: Redis is unreachable (%s); working without it.", type(exc).__name__
                )
            raise _Down from None
        if self._warned:
            self._warned = False
            log.warning("Cache: Redis is back.")
        return result

    def _or(self, fallback, method, *args, **kwargs):
        try:
            return self._call(method, *args, **kwargs)
        except _Down:
            return fallback

    def add(self, *args, **kwargs):
        return self._or(False, super().add, *args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._or(default, super().get, key, default, version)

    def set(self, *args, **kwargs):
        return self._or(None, super().set, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._or(False, super().touch, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._or(False, super().delete, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._or({}, super().get_many, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._or(False, super().has_key, *args, **kwargs)

    def set_many(self, data, *args, **kwargs):
        return self._or(list(data), super().set_many, data, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._or(None, super().delete_many, *args, **kwargs)

    def clear(self):
        return self._or(False, super().clear)

    def incr(self, key, delta=1, version=None):
        try:
            return self._call(super().incr, key, delta, version)
        except _Down:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).") from None

    def available(self) -> bool:
        """For the health check."""
        try:
            self._call(lambda: self._cache.get_client(write=True).ping())
        except _Down:
            return False
        return True
