"""The REST bot's scenario, through the Telegram connector: the bot is added to a group (the
group is discovered), a member joins and is welcomed, posts an ad and is warned (the ad
deleted, as the group's rules say), posts another and is removed (banned: ads block), checks in
with /checkin and earns points, asks /points and gets their link privately; a campaign post
goes out with a button to the campaign's page. Updates come by long polling from a local Bot
API; actions go out to it; both in Telegram's official shapes."""

import pytest
from django.conf import settings

from communities.models import Community, CommunityRules
from connectors.models import ConnectionMode, TelegramChat
from connectors.telegram import polling, sender
from integrations import outbox
from integrations.models import Action, ActionKind, ActionStatus
from members.models import Block, Membership, PointsEntry, Warning
from tenancy.scope import org_scope

from .fake_telegram import BOT, bot_added, group, member_change, message, message_with_link, user

pytestmark = pytest.mark.django_db

CHAT = group()
OWNER = user(42, "群", "主")
MEMBER = user(1001, "小", "李")


def _poll(org):
    with org_scope(org):
        return polling.poll_once(org)


def _send(org):
    with org_scope(org):
        return sender.send_due(org)


def _community(org):
    return Community.objects.for_org(org).get(platform="telegram", external_id=str(CHAT["id"]))


def test_connecting_checks_the_token_and_removes_a_webhook(org_a, bot_api, polling_a):
    assert polling_a.mode == ConnectionMode.POLLING and polling_a.bot_username == BOT["username"]
    assert [name for _t, name, _p in bot_api.calls] == ["getMe", "deleteWebhook"]


def test_join_welcome_ad_warn_remove_checkin_points_and_a_campaign_post(org_a, bot_api, polling_a):
    org = org_a.org
    # the bot is added: the group exists before anyone speaks, named after the chat
    bot_api.push_updates(bot_added(CHAT, OWNER))
    assert _poll(org)["updates"] == 1
    community = _community(org)
    assert community.name == CHAT["title"]
    chat = TelegramChat.objects.for_org(org).get(chat_id=CHAT["id"])
    assert chat.can_delete and chat.can_restrict and chat.can_pin
    assert bot_api.of("getUpdates")[-1]["allowed_updates"] == [
        "message",
        "chat_member",
        "my_chat_member",
    ]

    # join → welcome
    bot_api.push_updates(member_change(CHAT, MEMBER, "left", "member"))
    _poll(org)
    membership = Membership.objects.for_org(org).get(community=community)
    assert membership.identity.external_user_id == "1001"
    assert membership.identity.display_name == "小 李"
    assert _send(org)["done"] == 1
    welcome = bot_api.of("sendMessage")[-1]
    assert welcome["chat_id"] == CHAT["id"] and welcome["text"]
    assert Action.objects.for_org(org).get(kind=ActionKind.WELCOME).status == ActionStatus.DONE

    # the group bans ads, deletes them, and removes at the second
    with org_scope(org):
        CommunityRules.objects.for_org(org).filter(community=community).update(
            rules=[
                {
                    "kind": "no_ads",
                    "params": {"allowed_domains": [], "keywords": [], "delete_messages": True},
                }
            ],
            warnings_before_removal=1,
        )
    ad = message_with_link(
        CHAT, MEMBER, "便宜好货 https://spam.example/x 快来", "https://spam.example/x"
    )
    bot_api.push_updates(ad)
    _poll(org)
    _send(org)
    assert Warning.objects.for_org(org).filter(membership=membership).count() == 1
    assert bot_api.of("deleteMessage") == [
        {"chat_id": CHAT["id"], "message_id": ad["message"]["message_id"]}
    ]
    assert bot_api.of("sendMessage")[-1]["text"]  # the warning, in the group

    second = message_with_link(
        CHAT, MEMBER, "再来 https://spam.example/y", "https://spam.example/y"
    )
    bot_api.push_updates(second)
    _poll(org)
    _send(org)
    membership.refresh_from_db()
    assert membership.status == "removed"
    assert bot_api.of("banChatMember") == [
        {"chat_id": CHAT["id"], "user_id": 1001, "revoke_messages": False}
    ]
    assert bot_api.of("unbanChatMember") == []  # ads block: the ban stays
    assert Block.objects.for_org(org).filter(member=membership.member).exists()
    assert len(bot_api.of("deleteMessage")) == 2

    # another member: /checkin earns points, /points sends their link privately
    other = user(1002, "阿", "芳")
    bot_api.push_updates(
        member_change(CHAT, other, "left", "member"),
        message(CHAT, other, "/checkin"),
        message(CHAT, other, f"/points@{BOT['username']}"),
    )
    _poll(org)
    member = Membership.objects.for_org(org).get(identity__external_user_id="1002").member
    assert PointsEntry.objects.for_org(org).filter(member=member, reason="checkin").count() == 1
    bot_api.reset()
    _send(org)
    private = [m for m in bot_api.of("sendMessage") if m["chat_id"] == 1002]
    assert len(private) == 1 and "/m/" in private[0]["text"]

    # a campaign post: the link to its page becomes a button
    link = f"{settings.SITE_URL}/m/{org.slug}/c/7/"
    with org_scope(org):
        outbox.enqueue(
            organization=org,
            kind=ActionKind.ANNOUNCE,
            community=community,
            text=f"秒杀明早十点开始\n详情和报名：{link}",
        )
    bot_api.reset()
    _send(org)
    post = bot_api.of("sendMessage")[0]
    button = post["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == link and button["text"]
    assert bot_api.of("pinChatMessage")[0]["chat_id"] == CHAT["id"]
    assert not Action.objects.for_org(org).exclude(status=ActionStatus.DONE).exists()


def test_a_command_for_another_bot_is_an_ordinary_message(org_a, bot_api, polling_a):
    org = org_a.org
    bot_api.push_updates(message(CHAT, MEMBER, "/checkin@someone_elses_bot"))
    _poll(org)
    assert not PointsEntry.objects.for_org(org).filter(reason="checkin").exists()


def test_a_removal_for_another_rule_lets_the_member_come_back(org_a, bot_api, polling_a):
    org = org_a.org
    bot_api.push_updates(bot_added(CHAT, OWNER), member_change(CHAT, MEMBER, "left", "member"))
    _poll(org)
    community = _community(org)
    membership = Membership.objects.for_org(org).get(community=community)
    with org_scope(org):
        outbox.enqueue(
            organization=org,
            kind=ActionKind.REMOVE,
            community=community,
            member=membership.member,
            user_external_id="1001",
            display_name="小 李",
            reason="manual",
            announce="",
        )
    _send(org)
    assert bot_api.of("banChatMember")[0]["user_id"] == 1001
    assert bot_api.of("unbanChatMember") == [
        {"chat_id": CHAT["id"], "user_id": 1001, "only_if_banned": True}
    ]


def test_a_mute_at_the_last_warning_restricts_the_member_until_a_time(org_a, bot_api, polling_a):
    org = org_a.org
    bot_api.push_updates(bot_added(CHAT, OWNER))
    _poll(org)
    with org_scope(org):
        outbox.enqueue(
            organization=org,
            kind=ActionKind.WARN,
            community=_community(org),
            user_external_id="1001",
            display_name="小 李",
            text="请注意群规",
            reason="flood",
            warning=2,
            threshold=2,
            mute_hours=24,
        )
    _send(org)
    restrict = bot_api.of("restrictChatMember")[0]
    assert restrict["user_id"] == 1001 and restrict["permissions"]["can_send_messages"] is False
    assert isinstance(restrict["until_date"], int)
