import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from integrations import delivery, outbox
from integrations.models import Action, DeliveryStatus, WebhookDelivery

from ..concurrency import run_concurrently
from ..factories import member_payload


def _action(org, text="hi"):
    return outbox.enqueue(organization=org, kind="member.welcome", **member_payload(text))


# --- pull mode ------------------------------------------------------------------------------


def test_poll_leases_and_ack_finishes(org_a):
    first, second = _action(org_a.org), _action(org_a.org)
    client = org_a.api_client()
    body = client.get("/api/v1/actions/?status=pending&limit=1").json()
    assert [a["id"] for a in body["results"]] == [first.pk] and body["lease_seconds"] == 300
    assert [a["id"] for a in client.get("/api/v1/actions/?status=pending").json()["results"]] == [
        second.pk
    ]
    assert client.get("/api/v1/actions/?status=pending").json()["results"] == []
    ack = client.post(
        f"/api/v1/actions/{first.pk}/ack",
        {"status": "done", "detail": "posted"},
        content_type="application/json",
    )
    assert ack.status_code == 200 and ack.json()["status"] == "done"
    again = client.post(
        f"/api/v1/actions/{first.pk}/ack/", {"status": "done"}, content_type="application/json"
    )
    assert again.status_code == 200  # idempotent
    conflict = client.post(
        f"/api/v1/actions/{first.pk}/ack", {"status": "failed"}, content_type="application/json"
    )
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    bad = client.post(
        f"/api/v1/actions/{second.pk}/ack", {"status": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_unacknowledged_lease_returns_to_pending(org_a):
    action = _action(org_a.org)
    delivery.lease_pending(actor=org_a.actor(), limit=10)
    assert delivery.lease_pending(actor=org_a.actor()) == []
    Action.objects.for_org(org_a.org).filter(pk=action.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    again = delivery.lease_pending(actor=org_a.actor())
    assert [a.pk for a in again] == [action.pk] and again[0].attempts == 2


def test_poll_limit_is_validated(org_a):
    response = org_a.api_client().get("/api/v1/actions/?status=pending&limit=0")
    assert response.status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bots_polling_at_once_never_get_the_same_action():
    from tenancy.actors import Actor
    from tenancy.services import organization_create

    org = organization_create(name="并发拉取", slug="poll-race", owner_email="poll@example.com")
    Action.objects.bulk_create(
        [
            outbox.build(
                organization=org, kind="member.remind", **member_payload(str(i), reminder=1)
            )
            for i in range(200)
        ]
    )

    def poll():
        got = []
        while batch := delivery.lease_pending(actor=Actor.system(org), limit=7):
            got.extend(a.pk for a in batch)
        return got

    got = [pk for ids in run_concurrently(poll) for pk in ids]
    assert len(got) == 200 and len(set(got)) == 200


# --- webhooks --------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    status = 200
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the test's own receiver, on loopback
    _Receiver.received, _Receiver.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_signed_webhook_delivery_round_trip(org_a, receiver):
    url, handler = receiver
    endpoint, secret = delivery.endpoint_create(actor=org_a.actor(), url=url)
    assert endpoint.secret_hint == secret[:6] and secret not in json.dumps(
        endpoint.__dict__, default=str
    )
    action = _action(org_a.org, text="欢迎")
    assert delivery.schedule_deliveries(org_a.org) == 1
    assert delivery.deliver_due(org_a.org) == {"sent": 1, "failed": 0}
    headers, body = handler.received[0]
    assert delivery.verify(
        secret, headers["X-Qunyun-Timestamp"], body, headers["X-Qunyun-Signature"]
    )
    assert not delivery.verify(
        "wrong", headers["X-Qunyun-Timestamp"], body, headers["X-Qunyun-Signature"]
    )
    assert json.loads(body)["payload"]["text"] == "欢迎" and headers["X-Qunyun-Action-Id"] == str(
        action.pk
    )
    action.refresh_from_db()
    assert action.status == "done"
    assert delivery.deliver_due(org_a.org) == {"sent": 0, "failed": 0}  # exactly once


def test_failures_back_off_then_give_up_and_can_be_retried(org_a, receiver):
    url, handler = receiver
    handler.status = 500
    delivery.endpoint_create(actor=org_a.actor(), url=url)
    action = _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    assert delivery.deliver_due(org_a.org) == {"sent": 0, "failed": 1}
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    assert row.status == DeliveryStatus.RETRYING and row.last_status_code == 500
    assert row.next_attempt_at > timezone.now()
    # a day later the next failure gives up; the action goes back to the pull queue
    WebhookDelivery.objects.for_org(org_a.org).update(
        created_at=timezone.now() - timedelta(hours=25), next_attempt_at=timezone.now()
    )
    delivery.deliver_due(org_a.org)
    row.refresh_from_db()
    action.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD and action.status == "pending"
    handler.status = 204
    delivery.delivery_retry(actor=org_a.actor(), delivery=row)
    assert delivery.deliver_due(org_a.org)["sent"] == 1


def test_a_crash_mid_delivery_leaves_it_to_be_sent_again(org_a, receiver):
    url, _handler = receiver
    delivery.endpoint_create(actor=org_a.actor(), url=url)
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)

    def crash(target, body, headers, timeout):
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        delivery.deliver_due(org_a.org, opener=crash)
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0  # rolled back
    assert delivery.deliver_due(org_a.org)["sent"] == 1


def test_unreachable_endpoint_is_a_retry_not_an_error(org_a, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    delivery.endpoint_create(actor=org_a.actor(), url="http://127.0.0.1:9/nothing-here")
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    assert delivery.deliver_due(org_a.org)["failed"] == 1
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    assert row.status == DeliveryStatus.RETRYING
    assert row.last_error == "connect_failed"  # a category, not the socket's error text


def test_webhooks_page_shows_the_secret_once(org_a):
    client = org_a.client_for(org_a.owner)
    url = f"/o/{org_a.org.slug}/webhooks/"
    response = client.post(url, {"url": "https://bot.example.com/qunyun", "kinds": ["member.warn"]})
    assert response.status_code == 200 and b"webhook-secret" in response.content
    assert b"webhook-secret" not in client.get(url).content
    assert client.post(url, {"url": "not a url"}).status_code == 400
    assert org_a.client_for(org_a.analyst).get(url).status_code == 403


def test_a_failed_publish_shows_on_its_post(org_a):
    from communities import content
    from communities import services as community_services
    from communities.models import ScheduledPost

    group = community_services.community_create(actor=org_a.actor(), name="发帖群")
    post = content.post_create(
        actor=org_a.actor(),
        community=group,
        scheduled_at=timezone.now() + timedelta(minutes=1),
        text="x",
    )
    content.dispatch_due(org_a.org, now=timezone.now() + timedelta(minutes=2))
    post.refresh_from_db()
    leased = delivery.lease_pending(actor=org_a.actor())
    delivery.acknowledge(
        actor=org_a.actor(), action=leased[0], status="failed", detail="bot kicked out"
    )
    assert ScheduledPost.objects.for_org(org_a.org).get(pk=post.pk).status == "failed"
    page = (
        org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/posts/{post.pk}/").content.decode()
    )
    assert "bot kicked out" in page
