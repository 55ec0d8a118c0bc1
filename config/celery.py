"""The Celery app. Broker and schedule come from Django settings (CELERY_* names).

Every task message carries the id of the request that queued it (`qunyun_request_id`, see
core/request_id.py) and when it was queued (`qunyun_queued_at`): the worker logs the task under
that request id, and the monitoring (config/monitoring.py) reads how long tasks wait."""

import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Queueing never raises into the caller when the broker is down (core/tasks.py).
app = Celery("qunyun", task_cls="core.tasks:ResilientTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "qunyun_request_id"
QUEUED_AT_HEADER = "qunyun_queued_at"
_scopes: dict = {}


@signals.before_task_publish.connect
def _stamp(headers=None, **kwargs):
    from core.request_id import current_request_id

    if headers is None:
        return
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id
    headers.setdefault(QUEUED_AT_HEADER, time.time())


@signals.task_prerun.connect
def _enter_request_scope(task_id=None, task=None, **kwargs):
    from core.request_id import current_request_id, request_id_scope

    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}  # `apply(headers=…)` puts them there
    request_id = (
        getattr(request, REQUEST_ID_HEADER, None)
        or headers.get(REQUEST_ID_HEADER)
        or current_request_id()  # run eagerly inside a request
        or f"task-{task_id}"
    )
    scope = request_id_scope(request_id)
    scope.__enter__()
    _scopes[task_id] = scope
    queued_at = getattr(request, QUEUED_AT_HEADER, None)
    if isinstance(queued_at, int | float):
        from config import monitoring

        queue = (getattr(request, "delivery_info", None) or {}).get("routing_key") or "default"
        monitoring.task_started(queue, time.time() - queued_at)


@signals.task_postrun.connect
def _leave_request_scope(task_id=None, task=None, state=None, **kwargs):
    scope = _scopes.pop(task_id, None)
    if scope is not None:
        scope.__exit__(None, None, None)
    if state == "SUCCESS" and task is not None:
        from config import monitoring

        monitoring.task_succeeded(task.name)
