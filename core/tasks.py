"""The Celery task class of the project (config/celery.py): queueing never fails the caller.

Work is queued after a commit (`transaction.on_commit(lambda: task.delay(...))`) or by beat;
the state it works on is in PostgreSQL, and every job is idempotent and picked up again by its
periodic run. So when the broker (Redis) is unreachable, `delay`/`apply_async` log one warning
and return None instead of raising into a request that has already committed its change.
"""

import logging

from celery import Task
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def _broker_errors() -> tuple:
    errors: tuple = (OperationalError, ConnectionError, TimeoutError, OSError)
    try:
        import redis
    except ImportError:  # pragma: no cover - redis comes with celery[redis]
        return errors
    return (*errors, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ResilientTask(Task):
    def apply_async(self, args=None, kwargs=None, **options):
        try:
            return super().apply_async(args, kwargs, **options)
        except _broker_errors() as exc:
            log.warning(
                "Could not queue %s: the broker is unreachable (%s). The periodic jobs "
                "will pick the work up from the database.",
                self.name,
                type(exc).__name__,
            )
            return None
