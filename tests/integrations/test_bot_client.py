"""The example bot client, run against the live test server."""

import importlib.util
from pathlib import Path

import pytest

from integrations import delivery
from integrations.models import Action
from tenancy.actors import Actor
from tenancy.services import api_key_create, organization_create

SPEC = importlib.util.spec_from_file_location(
    "bot_client", Path(__file__).resolve().parents[2] / "examples" / "bot_client.py"
)
bot_client = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bot_client)


@pytest.mark.django_db(transaction=True)
def test_bot_client_posts_polls_and_acknowledges(live_server):
    org = organization_create(name="机器人测试", slug="bot-client", owner_email="bot@example.com")
    _key, raw = api_key_create(actor=Actor.system(org), name="example bot")
    client = bot_client.QunyunClient(live_server.url, raw)
    assert client.whoami()["organization"]["slug"] == "bot-client"
    events = [bot_client.event("member.joined", "wx-g1", f"user-{i}") for i in range(3)]
    events.append({"id": "broken", "type": "member.joined"})
    result = client.post_events(events)
    assert result["accepted"] == 3 and result["rejected"][0]["index"] == 3
    assert client.post_events(events[:3])["duplicates"] == 3
    actions = client.poll_actions()
    assert len(actions) == 3 and {a["kind"] for a in actions} == {"member.welcome"}
    assert client.poll_actions() == []
    for action in actions:
        client.ack(action["id"], "done", detail="posted")
    assert Action.objects.for_org(org).filter(status="done").count() == 3
    with pytest.raises(bot_client.QunyunError) as exc:
        client.ack(actions[0]["id"], "failed")
    assert exc.value.status == 409


def test_signature_check_matches_the_server():
    import time

    timestamp, body = str(int(time.time())), b'{"id": 1}'
    signature = delivery.sign("s3cret", timestamp, body)
    headers = {"X-Qunyun-Timestamp": timestamp, "X-Qunyun-Signature": signature}
    assert bot_client.verify_signature("s3cret", headers, body)
    assert not bot_client.verify_signature("other", headers, body)
    assert not bot_client.verify_signature("s3cret", {**headers, "X-Qunyun-Timestamp": "1"}, body)


def test_signature_headers_are_read_in_any_case():
    import time

    timestamp, body = str(int(time.time())), b'{"id": 2}'
    signature = delivery.sign("s3cret", timestamp, body)
    for names in (
        ("x-qunyun-timestamp", "x-qunyun-signature"),  # as WSGI/ASGI frameworks often give them
        ("X-QUNYUN-TIMESTAMP", "X-Qunyun-signature"),
    ):
        headers = {names[0]: timestamp, names[1]: signature}
        assert bot_client.verify_signature("s3cret", headers, body)


def test_a_read_timeout_is_retried():
    """The first answer comes too late (the server did the work): the client asks again."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls = []

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            calls.append(self.path)
            if len(calls) == 1:
                threading.Event().wait(1.0)  # longer than the client's timeout
            body = json.dumps({"organization": {"name": "x"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = bot_client.QunyunClient(
            f"http://127.0.0.1:{server.server_port}", "qy_test", timeout=0.3, retries=2
        )
        assert client.whoami() == {"organization": {"name": "x"}}
    finally:
        server.shutdown()
    assert calls == ["/api/v1/me/", "/api/v1/me/"]
