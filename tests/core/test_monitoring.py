"""`/metrics` for the operator: off unless a token or networks are set, and the gauges read
after producing an outbox backlog."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import monitoring
from integrations import tasks as integration_tasks
from integrations.models import Action, DeliveryStatus
from metrics.models import DirtyDay

from ..factories import ActionFactory, CommunityFactory, WebhookDeliveryFactory

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-0123456789"


def _scrape(**headers) -> dict:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def test_metrics_are_off_unless_a_token_or_networks_are_set(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    assert Client().get("/metrics").status_code == 404


@pytest.mark.django_db(databases=["default", "system"])  # an allowed scrape reads the totals
def test_the_token_and_the_networks_guard_them(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = TOKEN, []
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", ["10.0.0.0/8"]
    assert Client().get("/metrics").status_code == 404  # the test client is 127.0.0.1
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert Client().get("/metrics").status_code == 200
    settings.METRICS_TOKEN = TOKEN  # both set: both must hold
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def _waiting_message(queued_at: float) -> bytes:
    return json.dumps({"body": "", "headers": {"qunyun_queued_at": queued_at}}).encode()


# the totals are read on the system role, which sees committed rows only
@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_the_gauges_after_an_outbox_backlog(org_a, org_b, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    for tenant, minutes in ((org_a, 10), (org_b, 1)):
        for _ in range(2):
            ActionFactory(organization=tenant.org, created_at=now - timedelta(minutes=minutes))
    ActionFactory(organization=org_a.org, kind="member.remind", status="leased")
    ActionFactory(organization=org_b.org, status="done")
    sent = ActionFactory(organization=org_a.org, status="done")
    for status in (DeliveryStatus.RETRYING, DeliveryStatus.RETRYING, DeliveryStatus.PENDING):
        WebhookDeliveryFactory(
            organization=org_a.org,
            action=sent,
            status=status,
            next_attempt_at=now - timedelta(minutes=3),
        )
    group = CommunityFactory(organization=org_a.org)
    for day in (now.date(), now.date() - timedelta(days=1)):
        DirtyDay.objects.create(organization=org_a.org, community=group, day=day)
    client = org_a.api_client()
    event = {
        "type": "member.joined",
        "occurred_at": "2026-11-21T20:00:00+08:00",
        "community": "g-mon",
        "user": "u-mon",
    }
    batch = [{**event, "id": "m-1"}, {**event, "id": "m-2"}, {"id": "m-3", "type": "nope"}]
    assert client.post("/api/v1/events/", {"events": batch}, content_type="application/json")
    client.post("/api/v1/events/", {"events": batch[:1]}, content_type="application/json")
    monkeypatch.setattr(integration_tasks.delivery, "schedule_deliveries", lambda org: 0)
    monkeypatch.setattr(
        integration_tasks.delivery, "deliver_due", lambda org: {"sent": 2, "failed": 1}
    )
    integration_tasks.deliver_webhooks(org_a.org.pk)
    monitoring.task_started("metrics", 4.5)
    monitoring.task_succeeded("members.tasks.scan_dormant")
    django_cache_key = monitoring.SUCCESS_KEY.format(task=monitoring.ROLLUP_TASK)
    from django.core.cache import cache

    cache.set(django_cache_key, time.time() - 120, timeout=None)
    redis = None
    if django_settings.CELERY_BROKER_URL.startswith("redis"):
        import redis as redis_lib

        redis = redis_lib.Redis.from_url(django_settings.CELERY_BROKER_URL)
        message = _waiting_message(time.time() - 30)
        redis.lpush("imports", message)
    try:
        values = _scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    finally:
        if redis is not None:
            redis.lrem("imports", 0, message)
            redis.close()

    def value(name, **labels):
        return values[(name, tuple(sorted(labels.items())))]

    # the outbox: every organization's unfinished actions, none named
    # four made above, and the welcome of the member who joined through the events
    assert value("qunyun_outbox_actions", kind="member.welcome", status="pending") == 5
    assert value("qunyun_outbox_actions", kind="member.remind", status="leased") == 1
    assert value("qunyun_outbox_actions", kind="post.publish", status="pending") == 0
    oldest = value("qunyun_outbox_oldest_pending_age_seconds", kind="member.welcome")
    assert 600 <= oldest < 700
    assert value("qunyun_outbox_oldest_pending_age_seconds", kind="member.remind") == 0
    assert Action.objects.for_org(org_b.org).filter(status="done").count() == 1  # not counted
    # webhooks
    assert value("qunyun_webhook_deliveries", status="retrying") == 2
    assert value("qunyun_webhook_deliveries", status="pending") == 1
    assert 180 <= value("qunyun_webhook_oldest_due_age_seconds") < 300
    assert value("qunyun_webhook_attempts_total", result="delivered") == 2
    assert value("qunyun_webhook_attempts_total", result="failed") == 1
    # events
    assert value("qunyun_events_ingested_total", result="accepted") == 2
    assert value("qunyun_events_ingested_total", result="duplicate") == 1
    assert value("qunyun_events_ingested_total", result="rejected") == 1
    # Celery and the rollups
    assert value("qunyun_celery_task_lag_seconds", queue="metrics") == 4.5
    success = value(
        "qunyun_celery_task_last_success_timestamp_seconds", task="members.tasks.scan_dormant"
    )
    assert time.time() - success < 60
    marks = sum(DirtyDay.objects.for_org(t.org).count() for t in (org_a, org_b))
    assert marks >= 2  # the two above, and what the triggers marked for the events
    assert value("qunyun_rollup_dirty_days") == marks
    assert 120 <= value("qunyun_rollup_staleness_seconds") < 180
    if redis is not None:
        assert value("qunyun_celery_queue_length", queue="imports") >= 1
        assert value("qunyun_celery_queue_oldest_age_seconds", queue="imports") >= 30


def test_the_grafana_dashboard_reads_only_metrics_we_export():
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(django_settings.BASE_DIR) / "docs" / "grafana-dashboard.json").read_text()
    )
    exported = set(re.findall(r'"(qunyun_[a-z_]+)"', Path(monitoring.__file__).read_text()))
    used = {
        name.removesuffix("_total")
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"qunyun_[a-z_]+", target["expr"])
    }
    assert used and used <= exported, used - exported
