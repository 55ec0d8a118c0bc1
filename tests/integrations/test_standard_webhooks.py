"""Deliveries carry the Standard Webhooks headers beside Qunyun's own, and the standardwebhooks
library verifies them with the secret the endpoint was created with."""

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from integrations import delivery, outbox
from integrations.models import ActionKind

from ..factories import CommunityFactory, member_payload


def test_the_standardwebhooks_library_verifies_a_delivery(org_a):
    created = org_a.api_client().post(
        "/api/v1/webhooks/",
        {"url": "https://bot.example.com/hook"},
        content_type="application/json",
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    standard_secret = created.json()["standard_webhooks_secret"]
    assert standard_secret.startswith("whsec_")
    group = CommunityFactory(organization=org_a.org)
    payload = {k: v for k, v in member_payload("欢迎").items() if k != "community_external_id"}
    action = outbox.enqueue(
        organization=org_a.org, kind=ActionKind.WELCOME, community=group, **payload
    )
    sent = []

    def opener(target, body, headers, timeout):  # integrations.netguard.post's signature
        sent.append((body, headers))
        return 200

    assert delivery.schedule_deliveries(org_a.org) == 1
    assert delivery.deliver_due(org_a.org, opener=opener) == {"sent": 1, "failed": 0}
    body, sent_headers = sent[0]
    headers = {name.title(): value for name, value in sent_headers.items()}  # any spelling

    verified = Webhook(standard_secret).verify(body, headers)
    assert verified == json.loads(body) and verified["id"] == action.pk
    assert verified["payload"]["text"] == "欢迎"
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["webhook-id"] == f"action-{action.pk}"
    assert lowered["webhook-timestamp"] == lowered["x-qunyun-timestamp"]
    assert Webhook(secret.encode()).verify(body, headers)  # the raw key works the same
    assert delivery.verify(
        secret, lowered["x-qunyun-timestamp"], body, lowered["x-qunyun-signature"]
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(standard_secret).verify(body.replace("欢迎".encode(), b"hi"), headers)
