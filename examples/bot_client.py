"""A small bot-side client for Qunyun: post what happens in the groups, carry out what Qunyun
asks, acknowledge it. Copy it into your bot; it needs only `requests`.

    client = QunyunClient("https://qunyun.example.com", api_key="qy_…")
    client.post_events([{"id": "evt-1", "type": "member.joined", ...}])
    for action in client.poll_actions():
        ok = my_bot.carry_out(action)          # post the welcome, warn, remove …
        client.ack(action["id"], "done" if ok else "failed", detail="…")

Webhook receivers check signatures with `verify_signature(secret, headers, body)` (or with a
Standard Webhooks library and the endpoint's `standard_webhooks_secret`; docs/integrations.md).
Run `python examples/bot_client.py --url … --key …` for a short demonstration.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime

import requests

MAX_BATCH = 1000


class QunyunError(Exception):
    def __init__(self, status: int, body: dict):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', body)}")
        self.status, self.body = status, body


class QunyunClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 15, retries: int = 3):
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}"})
        self.timeout, self.retries = timeout, retries

    def _call(self, method: str, path: str, **kwargs) -> dict:
        """One API call; network errors, timeouts (also a read timeout: the server may have
        done the work), 429 and 5xx are retried with backoff. Resending is safe: events are
        de-duplicated by their id, and acknowledging again with the same status is a no-op."""
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(
                    method, self.base_url + path, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.retries:
                    raise
            else:
                if response.status_code < 500 and response.status_code != 429:
                    body = response.json() if response.content else {}
                    if response.status_code >= 400:
                        raise QunyunError(response.status_code, body)
                    return body
                if attempt == self.retries:
                    raise QunyunError(response.status_code, {})
                wait = float(response.headers.get("Retry-After", 0) or 0)
                time.sleep(max(wait, 0.5 * 2**attempt))
                continue
            time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def whoami(self) -> dict:
        return self._call("GET", "/me/")

    def post_events(self, events: list[dict]) -> dict:
        """Send events in batches of at most 1,000; returns the summed result."""
        total = {"accepted": 0, "duplicates": 0, "rejected": []}
        for start in range(0, len(events), MAX_BATCH):
            result = self._call(
                "POST", "/events/", json={"events": events[start : start + MAX_BATCH]}
            )
            total["accepted"] += result["accepted"]
            total["duplicates"] += result["duplicates"]
            total["rejected"] += [{**r, "index": r["index"] + start} for r in result["rejected"]]
        return total

    def poll_actions(self, limit: int = 50, kinds: list[str] | None = None) -> list[dict]:
        """Lease pending actions (they return to the queue if not acknowledged in time)."""
        params = [("status", "pending"), ("limit", limit)] + [("kind", k) for k in kinds or []]
        return self._call("GET", "/actions/", params=params)["results"]

    def ack(self, action_id: int, status: str, detail: str = "") -> dict:
        return self._call(
            "POST", f"/actions/{action_id}/ack", json={"status": status, "detail": detail}
        )


def event(type_: str, community: str, user: str, **fields) -> dict:
    """An event with a fresh id and the current time."""
    return {
        "id": fields.pop("id", None) or f"evt-{uuid.uuid4()}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        "community": community,
        "user": user,
        **fields,
    }


def verify_signature(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """Check a webhook: X-Qunyun-Signature = sha256=HMAC-SHA256(secret, "<timestamp>.<body>"),
    the key being the secret's UTF-8 bytes. Header names are matched in any case (HTTP
    servers and frameworks spell them differently); `body` is the raw request body."""
    found = {str(name).lower(): value for name, value in dict(headers).items()}
    timestamp = found.get("x-qunyun-timestamp", "")
    signature = found.get("x-qunyun-signature", "")
    try:
        if abs(time.time() - int(timestamp)) > tolerance:
            return False
    except ValueError:
        return False
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={digest}", signature)


def demo(url: str, key: str, community: str) -> None:
    client = QunyunClient(url, key)
    print("connected to", client.whoami()["organization"]["name"])
    result = client.post_events(
        [
            event("member.joined", community, "demo-user", display_name="演示用户"),
            event("message.posted", community, "demo-user", kind="text", length=2, text="1"),
        ]
    )
    print("events:", result)
    for action in client.poll_actions():
        print(
            f"carrying out #{action['id']} {action['kind']}: {action['payload'].get('text', '')[:60]}"
        )
        client.ack(action["id"], "done", detail="demo")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--community", default="wx-jiankang-001")
    args = parser.parse_args()
    demo(args.url, args.key, args.community)
