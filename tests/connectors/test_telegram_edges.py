"""The Telegram connector at its edges: the webhook's secrets, Telegram's 429 with
`retry_after`, a removed bot (403), a revoked token (401), a group upgraded to a supergroup,
and one organization's token never carrying another's actions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from communities.models import Community
from connectors.models import ConnectionState, TelegramChat, TelegramConnection
from connectors.telegram import polling, sender
from integrations import delivery, outbox, status
from integrations.models import Action, ActionKind, ActionStatus
from members.models import Membership
from tenancy.actors import Actor
from tenancy.scope import org_scope

from .conftest import TOKEN_A, TOKEN_B, connect
from .fake_telegram import bot_added, bot_removed, group, message, user

pytestmark = pytest.mark.django_db

CHAT = group(-1009876543210, "北京宝妈群")
OWNER = user(42, "群", "主")
MEMBER = user(1001, "小", "李")


def _poll(org):
    with org_scope(org):
        return polling.poll_once(org)


def _send(org):
    with org_scope(org):
        return sender.send_due(org)


def _post(org, community, text="今天的话题", kind=ActionKind.PUBLISH):
    with org_scope(org):
        extra = (
            {"post_id": 1, "content_type": "tips", "scheduled_at": timezone.now().isoformat()}
            if kind == ActionKind.PUBLISH
            else {}
        )
        return outbox.enqueue(organization=org, kind=kind, community=community, text=text, **extra)


def _discovered(org, bot_api, chat=CHAT):
    bot_api.push_updates(bot_added(chat, OWNER))
    _poll(org)
    return Community.objects.for_org(org).get(platform="telegram", external_id=str(chat["id"]))


# --- webhook ---------------------------------------------------------------------------------


@pytest.fixture
def webhook_a(org_a, bot_api, settings):
    settings.SITE_URL = "https://qunyun.example"
    conn = connect(org_a.org, TOKEN_A, mode="webhook")
    registered = bot_api.of("setWebhook")[-1]
    return conn, registered


def test_connecting_a_webhook_registers_a_secret_path_and_token(org_a, webhook_a):
    conn, registered = webhook_a
    prefix = f"https://qunyun.example/connectors/telegram/{org_a.org.pk}/"
    assert registered["url"].startswith(prefix)
    assert len(registered["secret_token"]) >= 32
    assert registered["allowed_updates"] == ["message", "chat_member", "my_chat_member"]
    path_secret = registered["url"].removeprefix(prefix).strip("/")
    assert path_secret not in (conn.path_digest, conn.secret_digest)  # stored as digests only


def _path(registered):
    return registered["url"].removeprefix("https://qunyun.example")


def test_the_webhook_takes_updates_with_the_right_secret_only(org_a, org_b, webhook_a):
    conn, registered = webhook_a
    client, path = Client(), _path(registered)
    body = bot_added(CHAT, OWNER)
    header = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": registered["secret_token"]}

    assert client.post(path, body, content_type="application/json").status_code == 403
    wrong = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "x" * 43}
    assert client.post(path, body, content_type="application/json", **wrong).status_code == 403
    other_org = path.replace(f"/{org_a.org.pk}/", f"/{org_b.org.pk}/")
    assert (
        client.post(other_org, body, content_type="application/json", **header).status_code == 404
    )
    guessed = path.rstrip("/")[:-4] + "abcd/"
    assert client.post(guessed, body, content_type="application/json", **header).status_code == 404
    assert client.get(path, **header).status_code == 405
    assert not TelegramChat.objects.for_org(org_a.org).exists()

    response = client.post(path, body, content_type="application/json", **header)
    assert response.status_code == 200
    assert TelegramChat.objects.for_org(org_a.org).filter(chat_id=CHAT["id"]).exists()
    joined = message(CHAT, MEMBER, "大家好")
    assert client.post(path, joined, content_type="application/json", **header).status_code == 200
    assert Membership.objects.for_org(org_a.org).filter(identity__external_user_id="1001").exists()
    conn.refresh_from_db()
    assert conn.last_update_at is not None


def test_a_webhook_turned_off_answers_nothing(org_a, bot_api, webhook_a):
    from connectors.telegram import services

    _conn, registered = webhook_a
    with org_scope(org_a.org):
        services.telegram_disconnect(actor=Actor.system(org_a.org, "tests"))
    header = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": registered["secret_token"]}
    response = Client().post(
        _path(registered), bot_added(CHAT, OWNER), content_type="application/json", **header
    )
    assert response.status_code == 404
    assert bot_api.of("deleteWebhook")


def test_a_webhook_needs_a_public_https_address(org_a, bot_api, settings):
    from django.core.exceptions import ValidationError

    settings.SITE_URL = "http://127.0.0.1:8000"
    with pytest.raises(ValidationError, match="https"):
        connect(org_a.org, TOKEN_A, mode="webhook")
    assert not bot_api.of("setWebhook")


# --- limits and errors -----------------------------------------------------------------------


def test_429_holds_the_action_for_retry_after_and_nothing_is_lost(org_a, bot_api, polling_a):
    org = org_a.org
    community = _discovered(org, bot_api)
    action = _post(org, community)
    bot_api.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    assert _send(org) == {"done": 0, "failed": 0, "held": 1}
    action.refresh_from_db()
    assert action.status == ActionStatus.LEASED
    assert timedelta(seconds=5) < action.lease_until - timezone.now() <= timedelta(seconds=8)
    # asked again before the time is up (say, by another worker whose lease ran out): the chat
    # is still held, Telegram is not called
    Action.objects.for_org(org).filter(pk=action.pk).update(lease_until=timezone.now())
    calls = len(bot_api.of("sendMessage"))
    assert _send(org)["held"] == 1
    assert len(bot_api.of("sendMessage")) == calls


def test_the_per_group_limit_holds_what_exceeds_it(org_a, bot_api, polling_a, settings):
    settings.TELEGRAM_GROUP_MESSAGES_PER_MINUTE = 3
    org = org_a.org
    community = _discovered(org, bot_api)
    for n in range(5):
        _post(org, community, text=f"第{n}条")
    assert _send(org) == {"done": 3, "failed": 0, "held": 2}
    assert [m["text"] for m in bot_api.of("sendMessage")] == ["第0条", "第1条", "第2条"]
    held = Action.objects.for_org(org).filter(status=ActionStatus.LEASED)
    assert held.count() == 2 and all(a.lease_until > timezone.now() for a in held)


def test_a_removed_bot_fails_that_groups_actions_in_words(org_a, bot_api, polling_a):
    org = org_a.org
    community = _discovered(org, bot_api)
    action = _post(org, community)
    bot_api.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    assert _send(org)["failed"] == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert "bot was kicked" in action.outcome
    chat = TelegramChat.objects.for_org(org).get(chat_id=CHAT["id"])
    assert chat.bot_status == "kicked" and chat.problem
    conn = TelegramConnection.objects.for_org(org).get()
    assert conn.last_error == chat.problem
    # the next action for that group fails without calling Telegram
    second = _post(org, community)
    calls = len(bot_api.calls)
    _send(org)
    second.refresh_from_db()
    assert second.status == ActionStatus.FAILED and len(bot_api.calls) == calls
    # the status page says so
    page = org_a.client_for(org_a.owner).get(reverse("bot-status", args=[org.slug]))
    assert escape(chat.problem) in page.content.decode()


def test_the_bot_removed_from_a_group_is_seen_from_the_update_too(org_a, bot_api, polling_a):
    org = org_a.org
    _discovered(org, bot_api)
    bot_api.push_updates(bot_removed(CHAT, OWNER))
    _poll(org)
    chat = TelegramChat.objects.for_org(org).get(chat_id=CHAT["id"])
    assert chat.bot_status == "kicked" and chat.problem


def test_a_private_message_the_member_never_allowed_fails_for_that_member_only(
    org_a, bot_api, polling_a
):
    org = org_a.org
    with org_scope(org):
        action = outbox.enqueue(
            organization=org,
            kind=ActionKind.NOTIFY,
            text="恭喜中奖",
            user_external_id="1001",
            display_name="小李",
            platform="telegram",
        )
    bot_api.fail("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    _send(org)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED and "initiate conversation" in action.outcome
    conn = TelegramConnection.objects.for_org(org).get()
    assert conn.state == ConnectionState.OK


def test_a_revoked_token_breaks_the_connection_and_keeps_the_actions(org_a, bot_api, polling_a):
    org = org_a.org
    community = _discovered(org, bot_api)
    first, second = _post(org, community), _post(org, community)
    bot_api.fail("sendMessage", 401, "Unauthorized")
    _send(org)
    conn = TelegramConnection.objects.for_org(org).get()
    assert conn.state == ConnectionState.BROKEN and "BotFather" in conn.last_error
    for action in (first, second):
        action.refresh_from_db()
        assert action.status in (ActionStatus.PENDING, ActionStatus.LEASED)
        assert action.lease_until is None or action.lease_until <= timezone.now()
    calls = len(bot_api.calls)
    assert _send(org) == {"done": 0, "failed": 0, "held": 0}
    assert len(bot_api.calls) == calls  # nothing is tried until connected again
    page = org_a.client_for(org_a.owner).get(reverse("bot-status", args=[org.slug]))
    assert escape(conn.last_error) in page.content.decode()
    alerts = {alert.key: alert for alert in status.warnings(org)}
    assert alerts["telegram-broken"].url == reverse("telegram-connector", args=[org.slug])


# --- a group upgraded to a supergroup ----------------------------------------------------------


def test_a_group_upgraded_to_a_supergroup_keeps_its_identity(org_a, bot_api, polling_a):
    org = org_a.org
    old = group(-4000111, "宝妈群", type_="group")
    new = group(-1004000111, "宝妈群", type_="supergroup")
    bot_api.push_updates(bot_added(old, OWNER), message(old, MEMBER, "你好"))
    _poll(org)
    community = Community.objects.for_org(org).get(external_id=str(old["id"]))
    bot_api.push_updates(
        message(old, OWNER, migrate_to_chat_id=new["id"]),
        message(new, OWNER, migrate_from_chat_id=old["id"]),
        message(new, MEMBER, "升级了"),
    )
    _poll(org)
    assert Community.objects.for_org(org).filter(platform="telegram").count() == 1
    membership = Membership.objects.for_org(org).get(
        community=community, identity__external_user_id="1001"
    )
    assert membership.message_count == 2
    _post(org, community)
    _send(org)
    assert bot_api.of("sendMessage")[-1]["chat_id"] == new["id"]


def test_a_send_to_a_migrated_chat_follows_it(org_a, bot_api, polling_a):
    org = org_a.org
    old = group(-4000222, "读书群", type_="group")
    community = _discovered(org, bot_api, old)
    action = _post(org, community)
    bot_api.fail(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-1004000222,
    )
    _send(org)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert [m["chat_id"] for m in bot_api.of("sendMessage")] == [old["id"], -1004000222]
    assert TelegramChat.objects.for_org(org).get(chat_id=-1004000222).external_id == str(old["id"])


# --- tenants -----------------------------------------------------------------------------------


def test_one_organizations_token_never_carries_anothers_actions(org_a, org_b, bot_api):
    connect(org_a.org, TOKEN_A)
    connect(org_b.org, TOKEN_B)
    a_group = _discovered(org_a.org, bot_api)
    bot_api.push_updates(bot_added(CHAT, OWNER))  # the same chat id in B (another bot)
    _poll(org_b.org)
    b_group = Community.objects.for_org(org_b.org).get(external_id=str(CHAT["id"]))
    a_post, b_post = _post(org_a.org, a_group, "A 的帖子"), _post(org_b.org, b_group, "B 的帖子")
    bot_api.reset()
    _send(org_a.org)
    assert bot_api.tokens() == {TOKEN_A}
    assert [m["text"] for m in bot_api.of("sendMessage")] == ["A 的帖子"]
    b_post.refresh_from_db()
    assert b_post.status == ActionStatus.PENDING
    bot_api.reset()
    _send(org_b.org)
    assert bot_api.tokens() == {TOKEN_B}
    assert [m["text"] for m in bot_api.of("sendMessage")] == ["B 的帖子"]
    a_post.refresh_from_db()
    assert a_post.status == ActionStatus.DONE


def test_rest_bots_are_not_handed_the_connectors_actions(org_a, bot_api, polling_a):
    org = org_a.org
    community = _discovered(org, bot_api)
    telegram_post = _post(org, community)
    with org_scope(org):
        wechat = Community.objects.for_org(org).create(
            organization=org, name="微信群", platform="wechat", external_id="wx-1"
        )
    wechat_post = _post(org, wechat)
    leased = delivery.lease_pending(actor=Actor.for_api_key(org_a.api_key))
    assert [a.pk for a in leased] == [wechat_post.pk]
    telegram_post.refresh_from_db()
    assert telegram_post.status == ActionStatus.PENDING


@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_the_poll_command_passes_over_every_connected_organization(org_a, org_b, bot_api):
    from io import StringIO

    from django.core.management import call_command

    connect(org_a.org, TOKEN_A)
    connect(org_b.org, TOKEN_B)
    bot_api.push_updates(bot_added(CHAT, OWNER))
    out = StringIO()
    call_command("telegram_poll", "--once", stdout=out)
    assert "updates=2" in out.getvalue()  # the fake API gives both bots the update
    assert {t for t, name, _p in bot_api.calls if name == "getUpdates"} == {TOKEN_A, TOKEN_B}


def test_the_bot_token_never_reaches_the_logs(org_a, bot_api, caplog):
    """A Bot API URL holds the token; the HTTP client's request log must stay quiet."""
    import logging

    caplog.set_level(logging.DEBUG)  # the root logger, as LOG_LEVEL=DEBUG would
    connect(org_a.org, TOKEN_A)
    community = _discovered(org_a.org, bot_api)
    _post(org_a.org, community)
    _send(org_a.org)
    assert bot_api.of("sendMessage")
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert TOKEN_A not in logged and TOKEN_A.split(":")[1] not in logged


def test_an_update_that_cannot_be_applied_is_skipped_not_retried_for_ever(
    org_a, bot_api, polling_a, monkeypatch
):
    from connectors.telegram import updates

    org = org_a.org
    poison, fine = message(CHAT, MEMBER, "坏的"), message(CHAT, user(1003), "好的")
    real = updates.update_events

    def flaky(org_, conn, update):
        if update.update_id == poison["update_id"]:
            raise RuntimeError("boom")
        return real(org_, conn, update)

    monkeypatch.setattr(updates, "update_events", flaky)
    bot_api.push_updates(poison, fine)
    assert _poll(org)["events"] == 1
    conn = TelegramConnection.objects.for_org(org).get()
    assert conn.update_offset == fine["update_id"] + 1
    assert str(poison["update_id"]) in conn.last_error
    assert Membership.objects.for_org(org).filter(identity__external_user_id="1003").exists()
