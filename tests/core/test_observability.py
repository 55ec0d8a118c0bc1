"""Watchable in production: every request has an id that comes back in a header, in the API's
error body and on every log line, also of the Celery tasks the request queued; logs can be JSON;
errors go to Sentry when SENTRY_DSN is set."""

import json
import logging
import os
import subprocess
import sys

import pytest
from celery import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from config.celery import REQUEST_ID_HEADER, app
from core.logs import JsonFormatter
from core.request_id import RequestIdFilter, current_request_id, request_id_scope

from ..integrations.test_real_workers import ROOT, Redis, _settings_env, _wait


def _record(message="hello", **extra):
    record = logging.LogRecord("qunyun.test", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    RequestIdFilter().filter(record)
    return record


def test_a_request_id_comes_back_in_the_header_and_the_error_body(org_a):
    client = org_a.api_client()
    given = client.get("/api/v1/communities/987654/", HTTP_X_REQUEST_ID="proxy-req-0001")
    assert given.status_code == 404
    assert given["X-Request-ID"] == "proxy-req-0001"
    assert given.json()["error"]["request_id"] == "proxy-req-0001"
    made = client.get("/api/v1/communities/?bad=1", HTTP_X_REQUEST_ID="no spaces allowed!")
    assert made["X-Request-ID"] != "no spaces allowed!" and len(made["X-Request-ID"]) == 32
    assert made.json()["error"]["request_id"] == made["X-Request-ID"]
    assert Client().get("/healthz")["X-Request-ID"]  # every request, not only the API's


def test_log_lines_are_json_with_the_request_id():
    formatter = JsonFormatter()
    with request_id_scope("req-json-0001"):
        line = json.loads(formatter.format(_record("事件 %s", status_code=201)))
    assert line["message"] == "事件 %s" and line["level"] == "INFO"
    assert line["request_id"] == "req-json-0001" and line["status_code"] == 201
    outside = json.loads(formatter.format(_record()))
    assert outside["request_id"] is None
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(formatter.format(record))["exception"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_carries_its_id(org_a):
    seen = []

    def capture(headers=None, sender=None, **kwargs):
        seen.append((sender, dict(headers or {})))

    signals.before_task_publish.connect(capture, weak=False)
    try:  # the member import queues its work when its transaction commits, in the request
        upload = SimpleUploadedFile("m.csv", b"external_user_id,display_name\nwx-1,Li\n")
        response = org_a.api_client().post(
            "/api/v1/members/import/", {"file": upload}, HTTP_X_REQUEST_ID="req-import-0001"
        )
    finally:
        signals.before_task_publish.disconnect(capture)
    assert response.status_code == 202, response.content
    queued = [h for name, h in seen if name.startswith("members.import_tasks.")]
    assert queued and queued[0][REQUEST_ID_HEADER] == "req-import-0001"
    assert isinstance(queued[0]["qunyun_queued_at"], float)


def test_an_eager_task_logs_under_the_id_it_was_given():
    @app.task(name="tests.observability.probe", bind=True)
    def probe(self):
        return current_request_id()

    assert probe.apply(headers={REQUEST_ID_HEADER: "req-probe-0001"}).get() == "req-probe-0001"
    with request_id_scope("req-eager-0001"):
        assert probe.apply().get() == "req-eager-0001"
    assert probe.apply().get().startswith("task-")
    assert current_request_id() is None


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_a_task_under_the_id_of_the_request_that_queued_it(org_a):
    redis = Redis()
    redis.start()
    env = {**_settings_env(redis.url), "LOG_FORMAT": "json"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "metrics"]
        + ["--pool=solo", "--loglevel=info", "--without-heartbeat", "--without-mingle"]
        + ["--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        code = (
            "import django; django.setup(); "
            "from core.request_id import request_id_scope; "
            "from metrics.tasks import refresh_rollups; "
            "scope = request_id_scope('req-worker-0001'); scope.__enter__(); "
            f"refresh_rollups.delay({org_a.org.pk})"
        )
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
        os.set_blocking(worker.stdout.fileno(), False)

        def succeeded():
            while chunk := worker.stdout.readline():
                lines.append(chunk)
            return any("succeeded" in line and "req-worker-0001" in line for line in lines)

        assert _wait(succeeded, seconds=60), "".join(lines)[-3000:]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        redis.stop()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    done = [e for e in entries if "succeeded" in e["message"]]
    assert done[0]["request_id"] == "req-worker-0001"
    assert done[0]["logger"] == "celery.app.trace"


def test_sentry_is_off_without_a_dsn_and_reports_with_the_request_id_when_set(settings):
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    assert not settings.SENTRY_DSN
    assert not sentry_sdk.get_client().is_active()
    events = []

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.type == "event")

    sentry_sdk.init(
        dsn="https://public@sentry.example.com/1",
        transport=Capture,
        integrations=[DjangoIntegration()],
        default_integrations=False,
    )
    try:
        settings.ALLOWED_HOSTS = ["testserver"]
        with request_id_scope(None):
            client = Client(raise_request_exception=False)
            from django.urls import path

            def broken(request):
                raise RuntimeError("kaboom")

            settings.ROOT_URLCONF = type(
                "urls", (), {"urlpatterns": [path("broken", broken)], "handler500": None}
            )
            response = client.get("/broken", HTTP_X_REQUEST_ID="req-sentry-0001")
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert response.status_code == 500
    assert events, "nothing reached the transport"
    assert events[0]["tags"]["request_id"] == "req-sentry-0001"
    assert events[0]["exception"]["values"][0]["value"] == "kaboom"


def test_setting_sentry_dsn_turns_reporting_on_with_django_and_celery():
    code = (
        "import django, sentry_sdk; django.setup(); "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), {'celery', 'django'} <= set(client.integrations), "
        "client.options['data_collection']['user_info'])"
    )
    env = {**os.environ, "SENTRY_DSN": "https://public@sentry.example.com/1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True", "False"], result.stderr[-2000:]
