"""Bot connection status (issue 16, item 3): per API key the last event, poll and
acknowledgement, per endpoint the last successful delivery and what waits; each stamp written
at most once a minute; a warning on the home when actions wait too long or the bots go quiet."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations import delivery, outbox
from integrations.models import Action, WebhookEndpoint
from tenancy.models import ApiKey

from ..factories import CommunityFactory, WebhookDeliveryFactory, member_payload


def _event(community, n) -> dict:
    return {
        "id": f"status-{n}",
        "type": "member.joined",
        "occurred_at": timezone.now().isoformat(),
        "platform": "wechat",
        "community": community.external_id,
        "user": f"wxid_status_{n}",
    }


def _post(tenant, events):
    return tenant.api_client().post(
        "/api/v1/events/", json.dumps({"events": events}), content_type="application/json"
    )


def _key(tenant) -> ApiKey:
    return ApiKey.objects.for_org(tenant.org).get(pk=tenant.api_key.pk)


def _key_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "tenancy_apikey" in q["sql"]
    ]


@pytest.mark.django_db
def test_events_polls_and_acks_stamp_the_key_at_most_once_a_minute(org_a, time_machine):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    community = CommunityFactory(organization=org_a.org)
    assert _post(org_a, [_event(community, 1)]).status_code == 200
    key = _key(org_a)
    assert key.last_event_at == start and key.last_poll_at is None and key.last_ack_at is None

    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert _post(org_a, [_event(community, 2)]).status_code == 200
    assert _key_writes(queries) == []  # within the minute: no write for the stamps
    assert _key(org_a).last_event_at == start

    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    _post(org_a, [_event(community, 3)])
    assert _key(org_a).last_event_at == start + timedelta(seconds=61)

    # a batch with only invalid events is no event received
    time_machine.move_to(start + timedelta(minutes=5), tick=False)
    assert _post(org_a, [{"id": "broken", "type": "member.joined"}]).status_code == 200
    assert _key(org_a).last_event_at == start + timedelta(seconds=61)

    client = org_a.api_client()
    leased = client.get("/api/v1/actions/?status=pending").json()["results"]
    assert leased and _key(org_a).last_poll_at == start + timedelta(minutes=5)
    answer = client.post(
        f"/api/v1/actions/{leased[0]['id']}/ack",
        {"status": "done"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert _key(org_a).last_ack_at == start + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_successful_delivery_stamps_its_endpoint_once_a_minute(org_a, time_machine):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    endpoint, _secret = delivery.endpoint_create(
        actor=org_a.actor(), url="https://bot.example.com/hook"
    )
    refused, _secret = delivery.endpoint_create(
        actor=org_a.actor(), url="https://down.example.com/hook"
    )

    def opener(target, body, headers, timeout):
        return 200 if target.host == "bot.example.com" else 503

    outbox.enqueue(organization=org_a.org, kind="member.welcome", **member_payload("一"))
    delivery.schedule_deliveries(org_a.org)
    delivery.deliver_due(org_a.org, opener=opener)
    endpoint.refresh_from_db()
    refused.refresh_from_db()
    assert endpoint.last_delivered_at == start and refused.last_delivered_at is None

    time_machine.move_to(start + timedelta(seconds=20), tick=False)
    outbox.enqueue(organization=org_a.org, kind="member.welcome", **member_payload("二"))
    delivery.schedule_deliveries(org_a.org)
    delivery.deliver_due(org_a.org, opener=opener)
    endpoint.refresh_from_db()
    assert endpoint.last_delivered_at == start  # within the minute


@pytest.mark.django_db
def test_the_status_page_shows_each_key_and_endpoint(org_a):
    community = CommunityFactory(organization=org_a.org)
    _post(org_a, [_event(community, 1)])
    waiting = WebhookDeliveryFactory(organization=org_a.org, status="retrying")
    WebhookDeliveryFactory(organization=org_a.org, endpoint=waiting.endpoint, status="succeeded")
    Action.objects.for_org(org_a.org).update(created_at=timezone.now() - timedelta(hours=2))
    response = org_a.client_for(org_a.manager).get(reverse("bot-status", args=[org_a.org.slug]))
    assert response.status_code == 200
    keys = response.context["keys"]
    assert [k.pk for k in keys] == [org_a.api_key.pk] and keys[0].last_event_at is not None
    endpoints = {e.pk: e for e in response.context["endpoints"]}
    assert endpoints[waiting.endpoint_id].waiting == 1
    assert endpoints[waiting.endpoint_id].oldest_seconds is not None
    backlog = response.context["backlog"]
    # the joined member's welcome and the two deliveries' actions, none finished
    assert backlog["waiting"] == Action.objects.for_org(org_a.org).count() == 3
    assert backlog["oldest_seconds"] >= 2 * 3600
    page = response.content.decode()
    assert org_a.api_key.prefix in page and "从未" in page  # never polled


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("analyst", 403), ("deputy", 403)])
def test_the_status_page_is_for_those_who_manage_bots(org_a, who, status):
    url = reverse("bot-status", args=[org_a.org.slug])
    assert org_a.client_for(getattr(org_a, who)).get(url).status_code == status


def _alerts(tenant, user) -> dict:
    response = tenant.client_for(user).get(reverse("dashboard", args=[tenant.org.slug]))
    return {alert.key: alert for alert in response.context["alerts"]}


@pytest.mark.django_db
def test_the_home_warns_when_actions_wait_too_long(org_a, settings):
    settings.BOT_ACTIONS_WAITING_MINUTES = 30
    action = outbox.enqueue(organization=org_a.org, kind="member.welcome", **member_payload())
    assert _alerts(org_a, org_a.owner) == {}  # just written
    Action.objects.for_org(org_a.org).filter(pk=action.pk).update(
        created_at=timezone.now() - timedelta(minutes=45)
    )
    alerts = _alerts(org_a, org_a.owner)
    assert list(alerts) == ["bot-actions-waiting"]
    assert alerts["bot-actions-waiting"].text.startswith("1 个机器人动作在等待执行")
    assert alerts["bot-actions-waiting"].url == reverse("bot-status", args=[org_a.org.slug])
    assert "bot-actions-waiting" in _alerts(org_a, org_a.manager)
    assert _alerts(org_a, org_a.deputy) == {}  # not theirs to fix
    # carried out: the warning goes
    Action.objects.for_org(org_a.org).update(status="done")
    assert _alerts(org_a, org_a.owner) == {}


@pytest.mark.django_db
def test_the_home_warns_when_the_bots_go_quiet(org_a, settings, time_machine):
    settings.BOT_SILENT_HOURS = 24
    assert _alerts(org_a, org_a.owner) == {}  # no bot ever sent anything: the first steps say so
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _post(org_a, [_event(CommunityFactory(organization=org_a.org), 1)])
    Action.objects.for_org(org_a.org).update(status="done")
    time_machine.move_to(start + timedelta(hours=23), tick=False)
    assert _alerts(org_a, org_a.owner) == {}
    time_machine.move_to(start + timedelta(hours=25), tick=False)
    alerts = _alerts(org_a, org_a.owner)
    assert list(alerts) == ["bot-silent"]
    assert alerts["bot-silent"].text == "已经 25 小时没有收到机器人发来的事件了。"


@pytest.mark.django_db
def test_another_orgs_bots_do_not_count(org_a, org_b):
    outbox.enqueue(organization=org_b.org, kind="member.welcome", **member_payload())
    Action.objects.for_org(org_b.org).update(created_at=timezone.now() - timedelta(days=1))
    WebhookDeliveryFactory(organization=org_b.org)
    assert _alerts(org_a, org_a.owner) == {}
    response = org_a.client_for(org_a.owner).get(reverse("bot-status", args=[org_a.org.slug]))
    assert response.context["backlog"]["waiting"] == 0
    assert response.context["endpoints"] == []
    assert not WebhookEndpoint.objects.for_org(org_a.org).exists()
