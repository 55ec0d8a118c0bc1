"""A memo in the process's own memory, with a time limit, in front of the shared cache: for the
few values read on every request of a hot page (an organization's id from its address, a
sale's facts) where even a Redis round trip counts. Each process may lag the shared cache by
up to `seconds`; use it only where that is harmless."""

from __future__ import annotations

import threading
import time
import weakref

MISSING = object()
_ALL: weakref.WeakSet = weakref.WeakSet()


class LocalMemo:
    def __init__(self, seconds: float, max_entries: int = 10_000):
        self.seconds = seconds
        self.max_entries = max_entries
        self._values: dict = {}
        self._lock = threading.Lock()
        _ALL.add(self)

    def get(self, key):
        found = self._values.get(key)
        if found is None or found[1] < time.monotonic():
            return MISSING
        return found[0]

    def set(self, key, value) -> None:
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()  # rare: far more hot keys than any page has
            self._values[key] = (value, time.monotonic() + self.seconds)

    def forget(self, key) -> None:
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()


def clear_all() -> None:
    """Empty every memo of the process (the test suite does between tests, with the cache)."""
    for memo in list(_ALL):
        memo.clear()
