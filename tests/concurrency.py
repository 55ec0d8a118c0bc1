"""Run the same work in parallel threads, each with its own database connection."""

import threading

from django.db import connection


def run_concurrently(work, times: int = 2) -> list:
    """Start `times` threads that call `work()` at the same moment; return their results (an
    exception is returned in place of a result)."""
    barrier = threading.Barrier(times)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - the caller inspects it
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
