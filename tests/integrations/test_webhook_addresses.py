"""Webhooks that cannot reach inside (issue 19, item 1) and paused endpoints that stop at once
(item 2). Receivers are real HTTP servers on loopback; loopback is allowed explicitly with
WEBHOOK_ALLOWED_NETWORKS where a test needs to reach one."""

import socket
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from integrations import delivery, netguard, outbox
from integrations.models import Action, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.factories import WebhookEndpointFactory, member_payload

ROOT = Path(__file__).resolve().parents[2]

INTERNAL_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",  # a name that resolves to loopback
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://127.0.0.1:6379/",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, mapped
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "http://[fd00::1]/hook",  # unique local
    "http://[fe80::1]/hook",  # link-local
    "http://[ff02::1]/hook",  # multicast
    "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",  # shared address space (carrier NAT)
    "http://240.0.0.1/hook",  # reserved
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f.1/hook",
    "http://127.1/hook",
]


def _action(org, text="hi"):
    return outbox.enqueue(organization=org, kind="member.welcome", **member_payload(text))


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(dict(self.headers))
        self.send_response(self.server.status)
        for name, value in self.server.extra_headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(status=200, **extra_headers):
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    server.received, server.status, server.extra_headers = [], status, extra_headers
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers():
    started = []

    def start(status=200, **extra_headers):
        server = _serve(status, **extra_headers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dns(monkeypatch):
    """A DNS server the test controls: dns["name.test"] = ["10.1.2.3"]."""
    answers: dict[str, list[str]] = {}
    real = netguard.getaddrinfo
    calls = []

    def resolve(host, port):
        calls.append(host)
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port)

    monkeypatch.setattr(netguard, "getaddrinfo", resolve)
    answers["__calls__"] = calls
    return answers


# --- item 1: at save ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused_when_an_endpoint_is_saved(org_a, url):
    response = org_a.api_client().post(
        "/api/v1/webhooks/", {"url": url}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.for_org(org_a.org).exists()


def test_the_dashboard_form_refuses_them_too(org_a):
    page = org_a.client_for(org_a.owner).post(
        f"/o/{org_a.org.slug}/webhooks/", {"url": "http://127.0.0.1:6379/"}
    )
    assert page.status_code == 400
    assert "internal network" in page.content.decode() or "内部" in page.content.decode()
    assert not WebhookEndpoint.objects.for_org(org_a.org).exists()


def test_a_name_with_any_internal_address_is_refused(org_a, dns):
    dns["mixed.test"] = ["93.184.215.14", "10.0.0.7"]
    dns["internal.test"] = ["192.168.10.10"]
    for url in ["https://mixed.test/hook", "https://internal.test/hook"]:
        response = org_a.api_client().post(
            "/api/v1/webhooks/", {"url": url}, content_type="application/json"
        )
        assert response.status_code == 400


def test_unresolvable_and_credentialed_urls_are_refused(org_a):
    for url in ["https://no-such-host.invalid/hook", "https://user:pw@bot.example.com/hook"]:
        response = org_a.api_client().post(
            "/api/v1/webhooks/", {"url": url}, content_type="application/json"
        )
        assert response.status_code == 400, url


def test_public_addresses_are_accepted(org_a):
    response = org_a.api_client().post(
        "/api/v1/webhooks/",
        {"url": "https://bot.example.com/hook"},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_an_operator_may_allow_listed_private_ranges(org_a, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00:1::/64"]
    client = org_a.api_client()
    for url in ["http://10.20.30.40:8080/hook", "http://[fd00:1::5]/hook"]:
        created = client.post("/api/v1/webhooks/", {"url": url}, content_type="application/json")
        assert created.status_code == 201, url
    assert WebhookEndpoint.objects.for_org(org_a.org).count() == 2
    for url in ["http://127.0.0.1/hook", "http://192.168.1.1/hook", "http://[fd00:2::5]/hook"]:
        refused = client.post("/api/v1/webhooks/", {"url": url}, content_type="application/json")
        assert refused.status_code == 400, url


def test_a_bad_allow_list_stops_the_server_from_starting():
    import os

    env = {**os.environ, "WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-network"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "WEBHOOK_ALLOWED_NETWORKS" in result.stderr


# --- item 1: at delivery -----------------------------------------------------------------------


def test_a_name_that_turns_internal_after_saving_is_never_connected_to(org_a, dns, servers):
    receiver = servers()
    dns["rebind.test"] = ["93.184.215.14"]
    delivery.endpoint_create(
        actor=org_a.actor(), url=f"http://rebind.test:{receiver.server_port}/hook"
    )
    dns["rebind.test"] = ["127.0.0.1"]  # the DNS answer changes to the loopback receiver
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    assert delivery.deliver_due(org_a.org) == {"sent": 0, "failed": 1}
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    assert row.last_error == "address_refused" and row.status == DeliveryStatus.RETRYING
    assert receiver.received == []


def test_an_endpoint_stored_before_the_check_is_refused_at_delivery(org_a, servers):
    receiver = servers()
    WebhookEndpointFactory(
        organization=org_a.org, url=f"http://127.0.0.1:{receiver.server_port}/hook"
    )
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    assert delivery.deliver_due(org_a.org)["failed"] == 1
    assert WebhookDelivery.objects.for_org(org_a.org).get().last_error == "address_refused"
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address(org_a, dns, servers, settings):
    """`pinned.test` exists only in the test's DNS: a client that looked the name up again
    (urllib does) could not connect at all. One lookup per delivery, the Host header kept."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers()
    dns["pinned.test"] = ["127.0.0.1"]
    url = f"http://pinned.test:{receiver.server_port}/hook?bot=1"
    delivery.endpoint_create(actor=org_a.actor(), url=url)
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    dns["__calls__"].clear()
    assert delivery.deliver_due(org_a.org) == {"sent": 1, "failed": 0}
    assert dns["__calls__"] == ["pinned.test"]
    assert receiver.received[0]["Host"] == f"pinned.test:{receiver.server_port}"


def test_redirects_are_not_followed(org_a, servers, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    inside = servers()
    redirector = servers(302, Location=f"http://127.0.0.1:{inside.server_port}/steal")
    delivery.endpoint_create(
        actor=org_a.actor(), url=f"http://127.0.0.1:{redirector.server_port}/hook"
    )
    _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    assert delivery.deliver_due(org_a.org)["failed"] == 1
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    assert (row.last_status_code, row.last_error) == (302, "redirect")
    assert len(redirector.received) == 1 and inside.received == []


def test_the_delivery_log_records_categories_not_socket_text(org_a, settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setattr(delivery, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    silent = socket.socket()  # accepts the connection (backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    try:
        for port in (silent.getsockname()[1], closed_port):
            delivery.endpoint_create(actor=org_a.actor(), url=f"http://127.0.0.1:{port}/hook")
        _action(org_a.org)
        delivery.schedule_deliveries(org_a.org)
        delivery.deliver_due(org_a.org)
    finally:
        silent.close()
    errors = set(WebhookDelivery.objects.for_org(org_a.org).values_list("last_error", flat=True))
    assert errors == {"timeout", "connect_failed"}
    log = org_a.api_client().get("/api/v1/webhook-deliveries/").json()["results"]
    assert {row["last_error"] for row in log} == {"timeout", "connect_failed"}
    page = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/webhooks/").content.decode()
    assert "Errno" not in page and "refused" not in page.lower()


def test_address_policy_unit_cases(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    import ipaddress

    for text in ["8.8.8.8", "2001:4860:4860::8888", "93.184.215.14"]:
        assert netguard.is_allowed(ipaddress.ip_address(text)), text
    for url in INTERNAL_URLS:
        with pytest.raises(netguard.Refused):
            netguard.resolve(url)


# --- item 2: a paused endpoint stops at once ---------------------------------------------------


def _leased_through(org, endpoint_url, actor):
    endpoint, _secret = delivery.endpoint_create(actor=actor, url=endpoint_url)
    action = _action(org)
    assert delivery.schedule_deliveries(org) >= 1
    action.refresh_from_db()
    assert action.status == "leased"
    return endpoint, action


def test_pausing_an_endpoint_ends_its_deliveries_and_releases_the_actions(org_a, servers, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers(500)
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    endpoint, action = _leased_through(org_a.org, url, org_a.actor())
    assert delivery.deliver_due(org_a.org)["failed"] == 1  # now retrying, with ~25 h lease
    waiting = _action(org_a.org, "second")
    delivery.schedule_deliveries(org_a.org)
    client = org_a.api_client()
    paused = client.post(
        f"/api/v1/webhooks/{endpoint.pk}/disable/", content_type="application/json"
    )
    assert paused.status_code == 200
    rows = WebhookDelivery.objects.for_org(org_a.org).filter(endpoint=endpoint)
    assert {(r.status, r.last_error) for r in rows} == {("dead", "endpoint_disabled")}
    for a in (action, waiting):
        a.refresh_from_db()
        assert (a.status, a.lease_until) == ("pending", None)
    # back in the pull queue right away, and the paused endpoint gets nothing more
    pulled = client.get("/api/v1/actions/?status=pending").json()["results"]
    assert {a["id"] for a in pulled} == {action.pk, waiting.pk}
    WebhookDelivery.objects.for_org(org_a.org).update(next_attempt_at=timezone.now())
    before = len(receiver.received)
    assert delivery.deliver_due(org_a.org) == {"sent": 0, "failed": 0}
    assert len(receiver.received) == before
    assert delivery.schedule_deliveries(org_a.org) == 0


def test_an_action_another_endpoint_still_works_on_stays_leased(org_a, settings, servers):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    first, second = servers(), servers()
    one, _ = delivery.endpoint_create(
        actor=org_a.actor(), url=f"http://127.0.0.1:{first.server_port}/a"
    )
    delivery.endpoint_create(actor=org_a.actor(), url=f"http://127.0.0.1:{second.server_port}/b")
    action = _action(org_a.org)
    delivery.schedule_deliveries(org_a.org)
    delivery.endpoint_set_active(actor=org_a.actor(), endpoint=one, active=False)
    action.refresh_from_db()
    assert action.status == "leased"
    assert delivery.deliver_due(org_a.org) == {"sent": 1, "failed": 0}
    assert first.received == [] and len(second.received) == 1


def test_the_dashboard_pause_button_stops_deliveries_too(org_a, settings, servers):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers()
    endpoint, action = _leased_through(
        org_a.org, f"http://127.0.0.1:{receiver.server_port}/hook", org_a.actor()
    )
    client = org_a.client_for(org_a.owner)
    client.post(f"/o/{org_a.org.slug}/webhooks/{endpoint.pk}/toggle/")
    action.refresh_from_db()
    assert action.status == "pending"
    assert delivery.deliver_due(org_a.org)["sent"] == 0 and receiver.received == []


def test_deliveries_of_an_endpoint_paused_behind_the_services_back_are_not_sent(
    org_a, settings, servers
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers()
    endpoint, action = _leased_through(
        org_a.org, f"http://127.0.0.1:{receiver.server_port}/hook", org_a.actor()
    )
    WebhookEndpoint.objects.for_org(org_a.org).filter(pk=endpoint.pk).update(is_active=False)
    assert delivery.deliver_due(org_a.org) == {"sent": 0, "failed": 0}
    assert receiver.received == []
    action.refresh_from_db()
    assert action.status == "pending"


def test_retrying_a_paused_endpoints_delivery_is_refused(org_a, settings, servers):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers()
    endpoint, _action_row = _leased_through(
        org_a.org, f"http://127.0.0.1:{receiver.server_port}/hook", org_a.actor()
    )
    delivery.endpoint_set_active(actor=org_a.actor(), endpoint=endpoint, active=False)
    row = WebhookDelivery.objects.for_org(org_a.org).get()
    response = org_a.api_client().post(
        f"/api/v1/webhook-deliveries/{row.pk}/retry/", content_type="application/json"
    )
    assert response.status_code == 409  # the endpoint's state: resume it first


def test_an_action_every_endpoint_gave_up_on_stays_in_the_pull_queue(org_a, settings, servers):
    """Found with item 2: the next scheduling run leased it again for 25 hours although the
    endpoint's delivery of it was dead, so polling bots never saw it."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = servers(500)
    _endpoint, action = _leased_through(
        org_a.org, f"http://127.0.0.1:{receiver.server_port}/hook", org_a.actor()
    )
    WebhookDelivery.objects.for_org(org_a.org).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    delivery.deliver_due(org_a.org)
    action.refresh_from_db()
    assert action.status == "pending"
    delivery.schedule_deliveries(org_a.org)
    action.refresh_from_db()
    assert action.status == "pending" and action.lease_until is None
    assert Action.objects.for_org(org_a.org).filter(status="pending").count() == 1
