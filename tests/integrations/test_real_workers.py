"""Failure tests with real processes: a Celery worker killed in the middle of a webhook
delivery, and a Redis broker that goes away while posts fall due. Each test runs its own
redis-server on a free port and its own worker against the test database."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from communities import content
from communities.models import Community, PostStatus, ScheduledPost
from integrations import delivery, outbox
from integrations.models import Action, DeliveryStatus, WebhookDelivery
from tenancy.services import organization_create
from tests.dbenv import child_database_env

from ..factories import member_payload

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    """A throwaway redis-server: start, stop, start again on the same port."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _settings_env(broker_url) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(child_database_env())
    env.update(
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=broker_url,
        TESTING="1",
        DEBUG="0",
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",  # the test's receiver is on loopback
    )
    return env


def _start_worker(broker_url):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            settings.WORKER_QUEUES,
            "--pool=solo",
            "--loglevel=warning",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=_settings_env(broker_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _send(broker_url, task, *args):
    """Queue a task on this test's broker (a separate process: the test's Celery app is bound
    to the suite's broker)."""
    code = (
        "import django, sys; django.setup(); "
        f"from {task.rsplit('.', 1)[0]} import {task.rsplit('.', 1)[1]} as t; "
        f"t.delay(*{list(args)!r})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_settings_env(broker_url),
        check=True,
        timeout=60,
    )


def _wait(condition, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def redis_server():
    server = Redis()
    server.start()
    yield server
    server.stop()


class _SlowReceiver(BaseHTTPRequestHandler):
    calls = []
    hang_first = True

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append(time.time())
        if type(self).hang_first and len(type(self).calls) == 1:
            time.sleep(8)  # the worker is killed while it waits for this answer
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_worker_killed_mid_delivery_means_redelivery_not_loss(redis_server, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _SlowReceiver.calls = []
    server = HTTPServer(("127.0.0.1", 0), _SlowReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    org = organization_create(name="杀进程", slug="kill-worker", owner_email="kill@example.com")
    from tenancy.actors import Actor

    delivery.endpoint_create(
        actor=Actor.system(org), url=f"http://127.0.0.1:{server.server_port}/hook"
    )
    action = outbox.enqueue(organization=org, kind="member.welcome", **member_payload("欢迎"))
    worker = _start_worker(redis_server.url)
    try:
        _send(redis_server.url, "integrations.tasks.deliver_webhooks", org.pk)
        assert _wait(lambda: len(_SlowReceiver.calls) == 1), "the worker never called the endpoint"
        os.killpg(worker.pid, signal.SIGKILL)  # mid-request
        worker.wait(timeout=10)
        row = WebhookDelivery.objects.for_org(org).get()
        assert row.status == DeliveryStatus.PENDING and row.attempts == 0  # nothing was lost
        worker = _start_worker(redis_server.url)
        _send(redis_server.url, "integrations.tasks.deliver_webhooks", org.pk)  # beat's next minute
        assert _wait(
            lambda: WebhookDelivery.objects.for_org(org).get().status == DeliveryStatus.SUCCEEDED
        )
        assert len(_SlowReceiver.calls) == 2  # at least once: delivered again
        action.refresh_from_db()
        assert action.status == "done"
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        server.shutdown()


def test_posts_fall_due_while_redis_is_down_and_go_out_when_it_returns(redis_server):
    org = organization_create(name="断开", slug="redis-down", owner_email="down@example.com")
    community = Community.objects.create(organization=org, name="g", external_id="g")
    worker = _start_worker(redis_server.url)
    try:
        redis_server.stop()
        # Redis is gone: posts are still written (they live in the database) and fall due.
        post = ScheduledPost.objects.create(
            organization=org,
            community=community,
            scheduled_at=timezone.now() + timedelta(seconds=1),
            content_type="tips",
            text="停机期间到期",
        )
        time.sleep(1.5)
        # beat cannot queue anything now; queueing says so (core/tasks.py) instead of raising
        queued = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from config.celery import app; "
                "app.conf.broker_connection_max_retries = 1; "
                "from communities.tasks import dispatch_posts; "
                f"print(dispatch_posts.apply_async(args=[{org.pk}], retry=False))",
            ],
            cwd=ROOT,
            env=_settings_env(redis_server.url),
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        )
        assert queued.stdout.strip() == "None"
        assert "Could not queue communities.tasks.dispatch_posts" in queued.stderr
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED  # recorded, waiting
        redis_server.start()
        _send(redis_server.url, "communities.tasks.dispatch_posts", org.pk)
        assert _wait(
            lambda: ScheduledPost.objects.for_org(org).get(pk=post.pk).status == PostStatus.SENT, 60
        )
        assert Action.objects.for_org(org).filter(kind="post.publish").count() == 1
        assert content.dispatch_due(org) == 0
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
