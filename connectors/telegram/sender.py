"""Outbox actions → Bot API calls, acknowledged through the same outbox states as a REST bot's
(`integrations.delivery`: leased, then done or failed with the platform's error in words).

| action            | calls                                                                   |
| ----------------- | ----------------------------------------------------------------------- |
| member.welcome    | sendMessage (the welcome; the rules as a second message when set)       |
| member.warn       | deleteMessage (an ad, where the rules say so), sendMessage, restrictChatMember (`mute_hours`) |
| member.remove     | deleteMessage (as above), banChatMember, unbanChatMember unless blocked, sendMessage (`announce`) |
| member.invite_back| unbanChatMember (only_if_banned): they may come back by the group's link |
| post.reply        | sendMessage replying to the message (`reply_to`)                        |
| post.publish      | sendMessage; a link to a Qunyun page becomes an inline button           |
| group.announce    | sendMessage (button as above), pinChatMessage                           |
| member.remind / member.notify | sendMessage to the member's private chat with the bot       |

Limits: Telegram allows about 30 messages a second per bot and 20 a minute in one group
(1 a second in a private chat). The limiter (core.ratelimit, shared by every process through
Redis) holds each action whose chat is at its limit for the seconds left; a `429` holds the
chat for its `retry_after`. A held action stays leased until then and is picked up again: no
state other than a REST bot's. `401` (token revoked) breaks the connection and returns the
action to the queue; `403` in a group means the bot is not in it any more: that group's
actions fail with that reason until the bot is added again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from telegram import (
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    error,
)

from core import ratelimit
from integrations import delivery
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind, ActionStatus
from integrations.platforms import Platform

from ..models import TelegramChat
from . import services
from .client import TelegramClient, in_words, retry_after_seconds
from .updates import actor_for

log = logging.getLogger(__name__)

NETWORK_RETRY = timedelta(seconds=30)
MESSAGE_ID = re.compile(r"^tg:(-?\d+):(\d+)$")
URL = re.compile(r"https?://\S+")


class Hold(Exception):
    """Not now: try the action again after `seconds`."""

    def __init__(self, seconds: float, chat_id=None):
        super().__init__(seconds)
        self.seconds, self.chat_id = max(1.0, seconds), chat_id


class Broken(Exception):
    """The connection cannot work (token refused): stop, keep the action for later."""


class Failed(Exception):
    """This action cannot be carried out; the message is what the operator reads."""


@dataclass
class Run:
    org: object
    conn: object
    client: TelegramClient
    chats: dict  # {external id: TelegramChat}
    held: dict  # {chat id: seconds}: chats at their limit in this run
    notes: list  # what went wrong in the secondary calls of the current action


def send_due(org, *, limit=100, client_factory=TelegramClient) -> dict:
    """Carry out the organization's pending Telegram actions. Returns counts. What went
    wrong is written in the organization's language (the outbox and the status page)."""
    with override(org.default_language):
        return _send_due(org, limit, client_factory)


def _send_due(org, limit, client_factory) -> dict:
    counts = {"done": 0, "failed": 0, "held": 0}
    conn = services.connection(org)
    if conn is None:
        return counts
    token = services.usable_token(conn)
    if not token:
        return counts
    actor = actor_for(org)
    actions = delivery.lease_for_connector(actor=actor, platform=Platform.TELEGRAM, limit=limit)
    if not actions:
        return counts
    externals = {a.payload.get("community_external_id") for a in actions} - {None}
    chats = {
        row.external_id: row
        for row in TelegramChat.objects.for_org(org)
        .filter(external_id__in=externals)
        .exclude(bot_status="migrated")
    }
    with client_factory(token) as client:
        run = Run(org, conn, client, chats, {}, [])
        for index, action in enumerate(actions):
            run.notes = []
            try:
                detail = carry_out(run, action)
            except Hold as hold:
                if hold.chat_id is not None:
                    run.held[hold.chat_id] = hold.seconds
                delivery.postpone(
                    actor=actor,
                    action=action,
                    until=timezone.now() + timedelta(seconds=hold.seconds),
                )
                counts["held"] += 1
                continue
            except Broken:
                for rest in actions[index:]:
                    delivery.postpone(actor=actor, action=rest, until=timezone.now())
                break
            except Failed as failed:
                delivery.acknowledge(
                    actor=actor, action=action, status=ActionStatus.FAILED, detail=str(failed)
                )
                counts["failed"] += 1
                continue
            delivery.acknowledge(
                actor=actor,
                action=action,
                status=ActionStatus.DONE,
                detail="; ".join([detail, *run.notes]),
            )
            counts["done"] += 1
            services.stamp(conn, "last_send_at")
    return counts


# --- one action ---------------------------------------------------------------------------------


def carry_out(run: Run, action) -> str:
    """The calls of one action; returns what was done, in words."""
    p, kind = action.payload, action.kind
    if kind in (ActionKind.REMIND, ActionKind.NOTIFY):
        user = _int(p["user_external_id"], _("The member's Telegram id is not a number."))
        call(run, "send_message", user, private=True, text=p["text"])
        return _("sent privately")
    chat = group_chat(run, p)
    if kind == ActionKind.WELCOME:
        call(run, "send_message", chat, text=p["text"])
        if p.get("rules_text"):
            secondary(run, "send_message", chat, text=p["rules_text"])
        return _("welcomed")
    if kind == ActionKind.WARN:
        _delete_ad(run, chat, p)
        call(run, "send_message", chat, text=p["text"])
        if p.get("mute_hours"):
            until = timezone.now() + timedelta(hours=p["mute_hours"])
            secondary(
                run,
                "restrict_chat_member",
                chat,
                user_id=int(p["user_external_id"]),
                permissions=ChatPermissions.no_permissions(),
                until_date=until,
            )
        return _("warned")
    if kind == ActionKind.REMOVE:
        user = _int(p["user_external_id"], _("The member's Telegram id is not a number."))
        _delete_ad(run, chat, p)
        call(run, "ban_chat_member", chat, user_id=user, revoke_messages=False)
        if not p.get("block"):  # a removal, not a ban: they may come back when invited
            secondary(run, "unban_chat_member", chat, user_id=user, only_if_banned=True)
        if p.get("announce"):
            secondary(run, "send_message", chat, text=p["announce"])
        return _("removed and blocked") if p.get("block") else _("removed")
    if kind == ActionKind.INVITE_BACK:
        user = _int(p["user_external_id"], _("The member's Telegram id is not a number."))
        call(run, "unban_chat_member", chat, user_id=user, only_if_banned=True)
        return _("allowed back: they may join again by the group's invite link")
    if kind == ActionKind.REPLY:
        extra = {}
        target = MESSAGE_ID.match(p.get("reply_to") or p.get("reply_to_event_id") or "")
        if target and int(target.group(1)) == chat:  # not across a supergroup upgrade
            extra["reply_parameters"] = ReplyParameters(
                message_id=int(target.group(2)), allow_sending_without_reply=True
            )
        call(run, "send_message", chat, text=p["text"], **extra)
        return _("replied")
    if kind in (ActionKind.PUBLISH, ActionKind.ANNOUNCE):
        message = _post(run, chat, p["text"])
        if kind == ActionKind.ANNOUNCE:
            secondary(run, "pin_chat_message", chat, message_id=message.message_id)
            return _("announced and pinned") if not run.notes else _("announced")
        return _("published")
    raise Failed(_("The Telegram connector does not carry out “%(kind)s”.") % {"kind": kind})


def _post(run, chat, text):
    """A post; a link to one of Qunyun's pages (a campaign's) also becomes a button under it.
    Telegram refuses buttons to addresses it cannot open (a local test site): then without."""
    link = next(
        (u.rstrip(".,;)") for u in URL.findall(text) if u.startswith(settings.SITE_URL)), None
    )
    if link is None:
        return call(run, "send_message", chat, text=text)
    label = compose(MessageKind.LINK_BUTTON, {}, language=run.org.default_language)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=link)]])
    try:
        return call(run, "send_message", chat, text=text, reply_markup=markup)
    except Failed as failed:
        if "button" not in str(failed).lower() and "url" not in str(failed).lower():
            raise
        run.notes.append(_("without the button: %(error)s") % {"error": failed})
        return call(run, "send_message", chat, text=text)


def _delete_ad(run, chat, payload) -> None:
    found = MESSAGE_ID.match(payload.get("delete_message") or "")
    if not found:
        return
    if int(found.group(1)) != chat:
        run.notes.append(_("the ad was posted before the group became a supergroup: not deleted"))
        return
    secondary(run, "delete_message", chat, message_id=int(found.group(2)))


# --- where to ------------------------------------------------------------------------------------


def group_chat(run: Run, payload) -> int:
    external = payload.get("community_external_id") or ""
    row = run.chats.get(external)
    if row is None:
        try:
            return int(external)  # a group added by hand with its chat id
        except ValueError:
            raise Failed(
                _(
                    "This group is not a Telegram chat the bot knows (its id “%(id)s”): add "
                    "the bot to the group, or set the group's id to the chat's id."
                )
                % {"id": external}
            ) from None
    if row.bot_status in ("left", "kicked"):
        raise Failed(row.problem or _("The bot is not in this group."))
    return row.chat_id


def _int(value, message) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Failed(message) from None


# --- calls ---------------------------------------------------------------------------------------


def _limits(run, chat_id, private: bool) -> None:
    """Hold when the chat or the bot is at Telegram's limit (checked before each call)."""
    if chat_id in run.held:
        raise Hold(run.held[chat_id], chat_id)
    bot = run.conn.bot_id or run.conn.pk
    waiting = ratelimit.peek("tg-wait", f"{bot}:{chat_id}", limit=1, window=1)
    if not waiting.allowed:
        raise Hold(waiting.retry_after, chat_id)
    per_second = ratelimit.hit(
        "tg-bot", str(bot), limit=settings.TELEGRAM_MESSAGES_PER_SECOND, window=1
    )
    if not per_second.allowed:
        raise Hold(1, None)
    limit, window = (1, 1) if private else (settings.TELEGRAM_GROUP_MESSAGES_PER_MINUTE, 60)
    in_chat = ratelimit.hit("tg-chat", f"{bot}:{chat_id}", limit=limit, window=window)
    if not in_chat.allowed:
        raise Hold(in_chat.retry_after, chat_id)


def call(run: Run, method: str, chat_id: int, *, private=False, _migrated=False, **kwargs):
    """One Bot API call for the action's main step; errors become Hold, Broken or Failed."""
    _limits(run, chat_id, private)
    try:
        return run.client.call(method, chat_id=chat_id, **kwargs)
    except error.RetryAfter as exc:
        seconds = retry_after_seconds(exc)
        bot = run.conn.bot_id or run.conn.pk
        ratelimit.hit("tg-wait", f"{bot}:{chat_id}", limit=1, window=max(1, int(seconds + 0.999)))
        raise Hold(seconds, chat_id) from None
    except error.ChatMigrated as exc:
        if _migrated:
            raise Failed(in_words(exc)) from None
        row = services.chat_migrated(run.org, chat_id, exc.new_chat_id)
        run.chats[row.external_id] = row
        return call(run, method, exc.new_chat_id, private=private, _migrated=True, **kwargs)
    except error.InvalidToken as exc:
        services.mark_broken(run.conn, services.token_refused_message(exc))
        raise Broken from None
    except error.Forbidden as exc:
        raise Failed(_forbidden(run, chat_id, private, exc)) from None
    except error.BadRequest as exc:
        raise Failed(_bad_request(run, chat_id, exc)) from None
    except (error.TimedOut, error.NetworkError) as exc:
        services.note_error(
            run.conn,
            _("Telegram could not be reached (%(error)s); trying again shortly.")
            % {"error": in_words(exc)},
        )
        raise Hold(NETWORK_RETRY.total_seconds(), None) from None


def secondary(run: Run, method: str, chat_id: int, **kwargs) -> None:
    """A step after the main one succeeded (pin, unban, mute, the rules): a failure is noted
    on the action, never repeats the main step."""
    try:
        call(run, method, chat_id, **kwargs)
    except Hold:
        run.notes.append(_("%(step)s skipped: Telegram asked to wait") % {"step": method})
    except Failed as failed:
        run.notes.append(f"{method}: {failed}")


def _forbidden(run, chat_id, private, exc) -> str:
    if private:
        return _(
            "Telegram does not let the bot write to this member first: they have not started "
            "a private chat with the bot, or they blocked it (%(error)s)."
        ) % {"error": in_words(exc)}
    problem = _(
        "The bot is not in this group any more (removed, or the group was deleted): add it "
        "again to carry out actions here (%(error)s)."
    ) % {"error": in_words(exc)}
    services.chat_problem(run.org, chat_id, problem, bot_status="kicked")
    for row in run.chats.values():
        if row.chat_id == chat_id:
            row.bot_status, row.problem = "kicked", problem
    services.note_error(run.conn, problem)
    return problem


def _bad_request(run, chat_id, exc) -> str:
    text = exc.message.lower()
    if "not enough rights" in text or "admin" in text or "rights" in text:
        problem = _(
            "The bot is not allowed to do this in the group: make it an administrator with the "
            "rights to delete messages, ban users and pin messages (%(error)s)."
        ) % {"error": in_words(exc)}
        services.chat_problem(run.org, chat_id, problem)
        services.note_error(run.conn, problem)
        return problem
    return in_words(exc)
