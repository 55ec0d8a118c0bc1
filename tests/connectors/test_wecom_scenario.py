"""The REST bot's scenario, as far as WeCom's API allows, through the WeCom connector: the
groups are found by the sync on connection, a customer joins (a change event) and is welcomed
by the group's welcome material, which follows the operator's wording; an ad cannot be seen
and a removal is never attempted; a campaign post becomes a 客户群群发 task that waits for the
staff member, then is done (or failed in words) from the send result. The access_token expires
and is fetched again. One organization's connection never carries another's actions."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from communities.models import Community
from communities.services.rules import rules_update
from connectors.models import WeComGroup, WeComSendTask
from connectors.status import wecom_alerts
from connectors.wecom import callbacks, jobs, sender
from connectors.wecom import services as wecom_services
from connectors.wecom.client import WeComClient
from integrations import delivery, outbox
from integrations.models import Action, ActionKind, ActionStatus
from members.models import Membership
from tenancy.actors import Actor
from tenancy.scope import org_scope

from .conftest import wecom_connect
from .fake_wecom import CORP_ID, chat_event

pytestmark = pytest.mark.django_db

CHAT = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"
OWNER = "staff-zhang"


def _sync(org):
    with org_scope(org):
        return jobs.sync(org)


def _send(org):
    with org_scope(org):
        return sender.send_due(org)


def _check(org):
    with org_scope(org):
        return jobs.check(org)


def _event(org, xml):
    from defusedxml.ElementTree import fromstring

    with org_scope(org):
        conn = wecom_services.connection(org)
        fields = {child.tag: (child.text or "").strip() for child in fromstring(xml)}
        return callbacks.handle_event(conn, fields)


def _community(org):
    return Community.objects.for_org(org).get(platform="wecom", external_id=CHAT)


def _announce(org, text):
    with org_scope(org):
        return outbox.enqueue(
            organization=org, kind=ActionKind.ANNOUNCE, community=_community(org), text=text
        )


@pytest.fixture
def group_a(org_a, wecom_api, wecom_a):
    wecom_api.add_group(
        CHAT, "健康优选客户群", OWNER, [("wmOld1", "老王", 2, 3), (OWNER, "张", 1, 0)]
    )
    _sync(org_a.org)
    return WeComGroup.objects.for_org(org_a.org).get(chat_id=CHAT)


def test_the_sync_finds_the_groups_and_their_customers(org_a, wecom_api, group_a):
    org = org_a.org
    assert group_a.title == "健康优选客户群" and group_a.owner == OWNER
    assert set(group_a.members) == {"wmOld1"}  # the staff member is not a member in Qunyun
    community = _community(org)
    assert community.name == "健康优选客户群"
    membership = Membership.objects.for_org(org).get(community=community)
    assert membership.identity.external_user_id == "wmOld1"
    # the welcome material carries the composer's welcome for the group
    added = wecom_api.of("externalcontact/group_welcome_template/add")
    assert len(added) == 1 and "健康优选客户群" in added[0]["text"]["content"]
    assert added[0]["agentid"] == 1000002
    assert group_a.welcome_template_id == "msgTemplate1"
    # a second sync changes nothing
    wecom_api.reset()
    assert _sync(org)["events"] == 0
    assert wecom_api.of("externalcontact/group_welcome_template/add") == []


def test_join_welcome_no_removal_and_a_campaign_post_as_a_send_task(org_a, wecom_api, group_a):
    org = org_a.org
    community = _community(org)
    # join (a change event) → membership → welcome handled by WeCom's welcome material
    wecom_api.join(CHAT, "wmNew2", "小李", join_time=1700000700, join_scene=1)
    _event(org, chat_event(CHAT, "update", "add_member", join_scene=1, members=["wmNew2"]))
    membership = Membership.objects.for_org(org).get(identity__external_user_id="wmNew2")
    assert membership.community == community
    wecom_api.reset()
    counts = _send(org)
    assert counts["done"] == 2  # both welcomes (the first sync's customer and the new one)
    welcome = Action.objects.for_org(org).filter(kind=ActionKind.WELCOME).last()
    assert welcome.status == ActionStatus.DONE and "msgTemplate1" in welcome.outcome
    assert wecom_api.of("externalcontact/add_msg_template") == []  # no message is sent

    # the operator changes the group's welcome: the material follows (edit, same id)
    with org_scope(org):
        rules_update(actor=org_a.actor(), community=community, welcome_message="欢迎来到我们的群！")
    wecom_api.reset()
    _check(org)
    edits = wecom_api.of("externalcontact/group_welcome_template/edit")
    assert edits == [
        {
            "template_id": "msgTemplate1",
            "text": {"content": "欢迎来到我们的群！"},
            "agentid": 1000002,
        }
    ]

    # a removal (from a rule, or by hand) is never attempted through WeCom: a REST bot may
    # carry it, the connector does not take it
    with org_scope(org):
        removal = outbox.enqueue(
            organization=org,
            kind=ActionKind.REMOVE,
            community=community,
            member=membership.member,
            user_external_id="wmNew2",
            display_name="小李",
            reason="ads",
            announce="",
        )
    wecom_api.reset()
    _send(org)
    removal.refresh_from_db()
    assert removal.status == ActionStatus.PENDING and wecom_api.calls == []
    with org_scope(org):
        handed = delivery.lease_pending(actor=Actor.for_api_key(org_a.api_key))
    assert [a.pk for a in handed] == [removal.pk]

    # a campaign post: a 客户群群发 task for the group's owner, waiting for staff
    post = _announce(org, "秒杀明早十点开始\n详情和报名：https://example.test/m/a/c/7/")
    counts = _send(org)
    assert counts["waiting"] == 1
    task = wecom_api.of("externalcontact/add_msg_template")[0]
    assert task == {
        "chat_type": "group",
        "sender": OWNER,
        "chat_id_list": [CHAT],
        "text": {"content": "秒杀明早十点开始\n详情和报名：https://example.test/m/a/c/7/"},
    }
    post.refresh_from_db()
    assert post.status == ActionStatus.WAITING_STAFF and OWNER in post.outcome
    # not handed out again while it waits
    assert _send(org)["waiting"] == 0
    # the staff member has not confirmed yet: still waiting
    assert _check(org)["waiting"] == 1
    # … and now has
    wecom_api.send_status["msgGroup1"] = 1
    assert _check(org)["done"] == 1
    post.refresh_from_db()
    assert post.status == ActionStatus.DONE and OWNER in post.outcome
    assert WeComSendTask.objects.for_org(org).get().finished_at is not None

    # leave (a change event) → the membership ends
    wecom_api.leave(CHAT, "wmNew2")
    _event(org, chat_event(CHAT, "update", "del_member", quit_scene=0, members=["wmNew2"]))
    membership.refresh_from_db()
    assert membership.status == "left"


def test_a_send_wecom_refuses_fails_in_words(org_a, wecom_api, group_a):
    org = org_a.org
    post = _announce(org, "今晚八点直播")
    _send(org)
    wecom_api.send_status["msgGroup1"] = 3
    assert _check(org)["failed"] == 1
    post.refresh_from_db()
    assert post.status == ActionStatus.FAILED
    assert post.outcome == "企业微信未发送：该群今天已收到过其他群发消息"


def test_a_send_never_confirmed_fails_after_the_days_allowed(org_a, wecom_api, group_a, settings):
    org = org_a.org
    settings.WECOM_SEND_TASK_DAYS = 2
    post = _announce(org, "今晚八点直播")
    _send(org)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert _check(org)["failed"] == 1
    post.refresh_from_db()
    assert post.status == ActionStatus.FAILED
    assert OWNER in post.outcome and "2" in post.outcome


def test_the_access_token_is_cached_and_fetched_again_when_it_expires(org_a, wecom_api, wecom_a):
    org = org_a.org
    wecom_api.add_group(CHAT, "群", OWNER, [])
    wecom_api.expires_in = 1000  # kept 700 s (fetched again 300 s before WeCom's expiry)
    cache.clear()
    _sync(org)
    issued = wecom_api.tokens_issued
    _sync(org)
    assert wecom_api.tokens_issued == issued  # cached
    # WeCom says the token expired (42001): a new one, and the call again
    wecom_api.expire_tokens()
    wecom_api.reset()
    _sync(org)
    assert wecom_api.tokens_issued == issued + 1
    paths = wecom_api.paths()
    assert paths[:3] == [
        "externalcontact/groupchat/list",
        "gettoken",
        "externalcontact/groupchat/list",
    ]
    # the cached token's time is up: fetched before any call fails
    wecom_api.reset()
    with time_machine.travel(timezone.now() + timedelta(seconds=800), tick=False):
        _sync(org)
    assert wecom_api.paths()[0] == "gettoken"
    assert wecom_api.tokens_issued == issued + 2


def test_an_invalid_token_is_fetched_again_too(org_a, wecom_api, wecom_a):
    wecom_api.reset()
    with org_scope(org_a.org):
        conn = wecom_services.connection(org_a.org)
        cache.set(wecom_services.cache_key(conn), {"token": "bogus", "expires_at": 2e9})
        client = wecom_services.client_for(conn)
        with client:
            assert client.call("externalcontact/groupchat/list", {"limit": 10})["errcode"] == 0
    assert wecom_api.paths() == [
        "externalcontact/groupchat/list",  # 40014
        "gettoken",
        "externalcontact/groupchat/list",
    ]


def test_a_refused_secret_breaks_the_connection_in_words(org_a, wecom_api, group_a):
    org = org_a.org
    wecom_api.secrets[CORP_ID] = "reset-in-admin"
    wecom_api.expire_tokens()
    post = _announce(org, "今晚八点直播")
    _send(org)
    post.refresh_from_db()
    # kept for when it works again: free to be taken at once
    assert post.status == ActionStatus.LEASED and post.lease_until <= timezone.now()
    with org_scope(org):
        conn = wecom_services.connection(org)
    assert conn.state == "broken" and "40001" in conn.last_error
    page = org_a.client_for(org_a.owner).get(reverse("bot-status", args=[org.slug]))
    body = page.content.decode()
    assert 'data-testid="connector-wecom"' in body and "40001" in body
    with org_scope(org):
        alerts = wecom_alerts(org=org)
    assert [a.key for a in alerts] == ["wecom-broken"] and "40001" in alerts[0].text


def test_one_organizations_connection_never_carries_anothers_actions(org_a, org_b, wecom_api):
    wecom_connect(org_a.org)
    wecom_api.secrets["wwcorpoforgb"] = "secret-of-organization-b-xyz"
    wecom_connect(org_b.org, corp_id="wwcorpoforgb", secret="secret-of-organization-b-xyz")
    wecom_api.add_group(CHAT, "A 的群", OWNER, [("wmA", "甲", 2, 3)])
    _sync(org_a.org)
    post = _announce(org_a.org, "只给 A")
    wecom_api.reset()
    assert _send(org_b.org) == {"done": 0, "failed": 0, "waiting": 0, "held": 0}
    assert wecom_api.of("externalcontact/add_msg_template") == []
    post.refresh_from_db()
    assert post.status == ActionStatus.PENDING
    # B's tokens are B's: the cache keys differ, so A's token is never used for B
    with org_scope(org_a.org):
        key_a = wecom_services.cache_key(wecom_services.connection(org_a.org))
    with org_scope(org_b.org):
        key_b = wecom_services.cache_key(wecom_services.connection(org_b.org))
    assert key_a != key_b
    _send(org_a.org)
    post.refresh_from_db()
    assert post.status == ActionStatus.WAITING_STAFF


def test_a_client_for_the_check_never_shares_the_connections_cache(wecom_api):
    with WeComClient(corp_id="x", secret="y", cache_key="wecom-check") as client:
        assert client.cache_key == "wecom-check"


def test_a_group_wecom_will_not_show_does_not_stop_the_sync(org_a, wecom_api, wecom_a):
    wecom_api.add_group(CHAT, "A 群", OWNER, [("wmA", "甲", 2, 3)])
    wecom_api.add_group("wrGone", "B 群", OWNER, [])
    wecom_api.answer("externalcontact/groupchat/get", {"errcode": 701008, "errmsg": "not found"})
    _sync(org_a.org)
    rows = {row.chat_id: row for row in WeComGroup.objects.for_org(org_a.org)}
    assert "701008" in rows[CHAT].problem
    assert rows["wrGone"].title == "B 群" and not rows["wrGone"].problem
