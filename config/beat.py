"""Beat's heartbeat, for the container healthcheck (docker-compose.yml, docs/deployment.md).

Beat runs its loop at least every `beat_max_loop_interval` seconds (and the schedule has a job
every 30 s, so in practice that often); on each pass `HeartbeatScheduler` touches a file,
at most every HEARTBEAT_EVERY seconds. A beat that hangs, lost its broker for good or died
leaves the file to age, and

    python -m config.beat /tmp/celerybeat-heartbeat 180

exits 1 when the file is missing or older than 180 s (0 otherwise) without setting Django up,
so the check is cheap. The schedule file's own mtime is not used: beat writes
it only every few minutes and only when something ran.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from celery.beat import PersistentScheduler

HEARTBEAT_EVERY = 10.0  # seconds between two touches at most once per loop pass


def touch(path: str | os.PathLike) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path)


def is_fresh(path: str | os.PathLike, max_age: float, now: float | None = None) -> bool:
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - mtime <= max_age


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler plus the heartbeat file (`beat_heartbeat_file`)."""

    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        path = self.app.conf.get("beat_heartbeat_file")
        now = time.monotonic()
        if path and now - self._last_beat >= HEARTBEAT_EVERY:
            try:
                touch(path)
                self._last_beat = now
            except OSError:  # a read-only disk must not stop the schedule; the check will fail
                pass
        return interval


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m config.beat HEARTBEAT_FILE MAX_AGE_SECONDS", file=sys.stderr)
        return 2
    path, max_age = argv[0], float(argv[1])
    if is_fresh(path, max_age):
        return 0
    print(f"beat heartbeat {path} missing or older than {max_age:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
