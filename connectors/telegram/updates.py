"""Telegram updates → Qunyun events, fed to `ingestion.pipeline` like a REST bot's batch.

| Telegram                                            | event                               |
| --------------------------------------------------- | ----------------------------------- |
| `chat_member` left/kicked → member/restricted       | `member.joined` (`invited_by` when someone else added them) |
| `chat_member` → left/kicked; `left_chat_member`     | `member.left`                       |
| `message.new_chat_members` (bot not an admin)       | `member.joined`                     |
| `message` with text, caption or media               | `message.posted` (kind, length, links from entities, `reply_to`) |
| `/checkin`, `/签到`                                  | `member.checked_in`                 |
| `/points`, `/me`, … (the member keywords)           | `message.posted` with the keyword   |
| `my_chat_member` (the bot added, promoted, removed) | the chat is discovered / its rights / broken |
| `migrate_to_chat_id` / `migrate_from_chat_id`       | the group keeps its identity        |

Event ids are stable per fact (`tg:<chat>:<message id>` for messages, the chat, user, kind
and second for joins and leaves), so an update delivered twice, or the same join seen as a
`chat_member` update and as a service message, is stored once.
"""

from __future__ import annotations

import logging
from datetime import UTC

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override
from telegram import Chat, ChatMember, Message, MessageEntity, Update

from communities.models import Community
from communities.services import communities_seen, community_update
from ingestion.pipeline import ingest_events
from integrations.platforms import Platform
from members.access import LINK_KEYWORDS
from tenancy.actors import Actor

from ..models import TelegramChat
from . import services

log = logging.getLogger(__name__)

ACTOR_LABEL = gettext_lazy("Telegram connector")
GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)
CHECKIN_COMMANDS = {"checkin", "签到", "打卡"}
MEDIA = {
    "photo": "image",
    "sticker": "other",
    "animation": "other",
    "video": "other",
    "video_note": "other",
    "voice": "other",
    "audio": "other",
    "document": "other",
    "poll": "other",
    "location": "other",
    "contact": "other",
}


def actor_for(org) -> Actor:
    return Actor.system(org, str(ACTOR_LABEL))


def handle_updates(conn, raw_updates: list[dict], bot=None) -> dict:
    """Apply a list of updates (as Telegram sends them) for the connection's organization.
    Returns {"events": n accepted, "offset": next update_id}."""
    with override(conn.organization.default_language):
        return _handle_updates(conn, raw_updates, bot)


def _handle_updates(conn, raw_updates, bot) -> dict:
    org = conn.organization
    events, offset = [], conn.update_offset
    for raw in raw_updates:
        try:
            update = Update.de_json(raw, bot)
        except Exception:  # noqa: BLE001 - a malformed update is skipped, not fatal
            log.warning("telegram: malformed update skipped", exc_info=True)
            continue
        offset = max(offset, update.update_id + 1)
        events.extend(update_events(org, conn, update))
    accepted = 0
    if events:
        with transaction.atomic():
            chats = _chats(org, events)
            result = ingest_events(actor=actor_for(org), raw_events=events)
            accepted = result.accepted
            _name_groups(org, chats)
        if result.rejected:
            log.warning("telegram: events rejected: %s", result.rejected)
    if raw_updates:
        services.stamp(conn, "last_update_at")
    return {"events": accepted, "offset": offset}


def update_events(org, conn, update: Update) -> list[dict]:
    if update.my_chat_member is not None:
        _bot_status_changed(org, conn, update.my_chat_member)
        return []
    if update.chat_member is not None:
        return _member_changed(org, update.chat_member)
    message = update.message
    if message is None or message.chat.type not in GROUP_TYPES:
        return []  # edits, channel posts, private chats: not group activity
    if message.migrate_to_chat_id:
        services.chat_migrated(org, message.chat.id, message.migrate_to_chat_id)
        return []
    if message.migrate_from_chat_id:
        services.chat_migrated(
            org, message.migrate_from_chat_id, message.chat.id, message.chat.title
        )
        return []
    row = services.chat_seen(org, message.chat)
    if message.new_chat_members:
        adder = message.from_user
        return [
            _event(
                "member.joined",
                f"tg:{message.chat.id}:join:{user.id}:{_ts(message.date)}",
                row,
                user,
                message.date,
                invited_by=str(adder.id) if adder and adder.id != user.id else None,
            )
            for user in message.new_chat_members
            if not user.is_bot
        ]
    if message.left_chat_member is not None:
        user = message.left_chat_member
        if user.is_bot:
            return []
        return [
            _event(
                "member.left",
                f"tg:{message.chat.id}:left:{user.id}:{_ts(message.date)}",
                row,
                user,
                message.date,
            )
        ]
    user = message.from_user
    if user is None or user.is_bot or message.sender_chat is not None:
        return []  # bots, anonymous admins and channels posting in the group
    return [_message_event(row, message, conn)]


def _message_event(row, message: Message, conn) -> dict:
    user, text = message.from_user, message.text or message.caption or ""
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    event_id = f"tg:{message.chat.id}:{message.message_id}"
    command = _command(text, entities, conn.bot_username)
    if command in CHECKIN_COMMANDS:
        return _event("member.checked_in", event_id, row, user, message.date)
    links = []
    for entity, value in entities.items():
        if entity.type == MessageEntity.URL:
            links.append(value)
        elif entity.type == MessageEntity.TEXT_LINK and entity.url:
            links.append(entity.url)
    kind = next((MEDIA[name] for name in MEDIA if getattr(message, name, None)), None)
    kind = kind or ("link" if links else "text")
    if command is not None and command.lower() in LINK_KEYWORDS:
        text = command.lower()  # "/points" asks what the keyword "points" asks
    extra = {
        "kind": kind,
        "length": len(text),
        "has_link": bool(links),
        "links": [link[:500] for link in links[:20]],
        "text": text[:4000],
    }
    reply = message.reply_to_message
    if reply is not None and not reply.forum_topic_created:
        extra["reply_to"] = f"tg:{message.chat.id}:{reply.message_id}"
    return _event("message.posted", event_id, row, user, message.date, **extra)


def _command(text: str, entities: dict, bot_username: str) -> str | None:
    """`checkin` of "/checkin" or "/checkin@our_bot" at the start of the message; None when
    there is none, or it is addressed to another bot."""
    for entity, value in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            name, _at, target = value[1:].partition("@")
            if target and bot_username and target.lower() != bot_username.lower():
                return None
            return name
    return None


def _member_changed(org, change) -> list[dict]:
    if change.chat.type not in GROUP_TYPES:
        return []
    row = services.chat_seen(org, change.chat)
    old, new = change.old_chat_member, change.new_chat_member
    user = new.user
    if user.is_bot:
        return []
    was, now = _is_member(old), _is_member(new)
    at, chat_id = change.date, change.chat.id
    if now and not was:
        adder = change.from_user
        invited_by = str(adder.id) if adder and adder.id != user.id else None
        return [
            _event(
                "member.joined",
                f"tg:{chat_id}:join:{user.id}:{_ts(at)}",
                row,
                user,
                at,
                invited_by=invited_by,
            )
        ]
    if was and not now:
        return [_event("member.left", f"tg:{chat_id}:left:{user.id}:{_ts(at)}", row, user, at)]
    return []


def _is_member(member) -> bool:
    if member.status in PRESENT:
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


def _bot_status_changed(org, conn, change) -> None:
    """The bot was added to a group (the group is discovered now, before anyone speaks),
    promoted (what it may do), or removed (the group's connection is broken)."""
    if change.chat.type not in GROUP_TYPES:
        return
    new = change.new_chat_member
    rights = {
        "can_delete": bool(getattr(new, "can_delete_messages", False))
        or new.status == ChatMember.OWNER,
        "can_restrict": bool(getattr(new, "can_restrict_members", False))
        or new.status == ChatMember.OWNER,
        "can_pin": bool(getattr(new, "can_pin_messages", False)) or new.status == ChatMember.OWNER,
    }
    if new.status in (ChatMember.LEFT, ChatMember.BANNED):
        problem = _("The bot was removed from this group: add it again to carry out actions here.")
        row = services.chat_seen(org, change.chat, bot_status=new.status, problem=problem, **rights)
        services.note_error(conn, _("The bot was removed from “%(group)s”.") % {"group": row})
        return
    row = services.chat_seen(org, change.chat, bot_status=new.status, problem="", **rights)
    _name_groups(org, communities_seen(org, {(Platform.TELEGRAM.value, row.external_id)}))


def _chats(org, events) -> dict:
    """{(platform, external id): Community} after ingestion created them (for naming)."""
    keys = {(e["platform"], e["community"]) for e in events}
    return {
        (c.platform, c.external_id): c
        for c in Community.objects.for_org(org).filter(
            platform=Platform.TELEGRAM, external_id__in=[k[1] for k in keys]
        )
    }


def _name_groups(org, communities: dict) -> None:
    """A group created from an event is named after its id; give it the chat's title."""
    unnamed = [c for c in communities.values() if c.name == c.external_id]
    if not unnamed:
        return
    titles = dict(
        TelegramChat.objects.for_org(org)
        .filter(external_id__in=[c.external_id for c in unnamed])
        .exclude(title="")
        .values_list("external_id", "title")
    )
    for community in unnamed:
        title = titles.get(community.external_id)
        if title:
            community_update(actor=actor_for(org), community=community, name=title[:120])


def _event(type_, event_id, row, user, at, **extra) -> dict:
    name = " ".join(filter(None, [user.first_name, user.last_name])) or user.username or ""
    return {
        "id": event_id[:100],
        "type": type_,
        "platform": Platform.TELEGRAM.value,
        "community": row.external_id,
        "user": str(user.id),
        "display_name": name[:120],
        "occurred_at": at.astimezone(UTC).isoformat(),
        **{k: v for k, v in extra.items() if v is not None},
    }


def _ts(at) -> int:
    return int(at.timestamp())
