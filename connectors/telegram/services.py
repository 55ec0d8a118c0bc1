"""Connecting an organization's Telegram bot, and the connection's state: every write to
`TelegramConnection` and `TelegramChat` is here.

Connecting checks the token with `getMe`, then either registers the webhook (`setWebhook` with
a secret path and a `secret_token`, both random and stored only as digests) or removes it for
long polling (`deleteWebhook`: Telegram refuses `getUpdates` while a webhook is set).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from telegram import error

from integrations.models import BotCredential
from integrations.platforms import Platform
from integrations.telegram_webapp import bot_token
from tenancy import audit
from tenancy.permissions import require

from .. import state
from ..models import ConnectionMode, ConnectionState, TelegramChat, TelegramConnection
from .client import ALLOWED_UPDATES, TelegramClient, in_words

STAMP_SECONDS = state.STAMP_SECONDS


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(stored_digest: str, offered: str) -> bool:
    return bool(stored_digest) and hmac.compare_digest(stored_digest, digest(offered or ""))


def connection(org) -> TelegramConnection | None:
    return TelegramConnection.objects.for_org(org).select_related("credential").first()


def live_credential(org) -> BotCredential | None:
    return (
        BotCredential.objects.for_org(org)
        .filter(platform=Platform.TELEGRAM, retired_at=None)
        .first()
    )


def webhook_url(org, path_secret: str) -> str:
    return settings.SITE_URL + reverse(
        "telegram-webhook", kwargs={"org_id": org.pk, "path_secret": path_secret}
    )


def telegram_connect(*, actor, mode: str, client_factory=TelegramClient) -> TelegramConnection:
    """Turn the connection on (webhook or polling) or off, with the organization's current
    token. A refused token or an unreachable Telegram is a form error, nothing is saved."""
    require(actor, "webhook.manage")
    org = actor.organization
    if mode not in ConnectionMode.values:
        raise ValidationError({"mode": [_("Choose webhook, long polling or off.")]})
    if mode == ConnectionMode.OFF:
        return telegram_disconnect(actor=actor, client_factory=client_factory)
    credential = live_credential(org)
    if credential is None:
        raise ValidationError({"mode": [_("Add the bot's token first.")]})
    if mode == ConnectionMode.WEBHOOK and not settings.SITE_URL.startswith("https://"):
        raise ValidationError(
            {
                "mode": [
                    _(
                        "Telegram sends webhooks only to a public https address, and this "
                        "site's address (SITE_URL) is %(url)s. Use long polling instead."
                    )
                    % {"url": settings.SITE_URL}
                ]
            }
        )
    path_secret, secret_token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    try:
        with client_factory(bot_token(org)) as client:
            me = client.call("get_me")
            if mode == ConnectionMode.WEBHOOK:
                client.call(
                    "set_webhook",
                    url=webhook_url(org, path_secret),
                    secret_token=secret_token,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=10,
                )
            else:
                client.call("delete_webhook", drop_pending_updates=False)
    except error.InvalidToken:
        raise ValidationError(
            {
                "mode": [
                    _("Telegram does not know this token: paste the current one from BotFather.")
                ]
            }
        ) from None
    except error.TelegramError as exc:
        raise ValidationError(
            {"mode": [_("Telegram refused: %(error)s") % {"error": in_words(exc)}]}
        ) from None
    now = timezone.now()
    with transaction.atomic():
        conn, _created = (
            TelegramConnection.objects.for_org(org)
            .select_for_update()
            .get_or_create(organization=org)
        )
        if conn.bot_id != me.id:
            conn.update_offset = 0  # another bot: its updates are numbered afresh
        conn.mode, conn.state, conn.credential = mode, ConnectionState.OK, credential
        conn.bot_id, conn.bot_username = me.id, me.username or ""
        conn.path_digest = digest(path_secret) if mode == ConnectionMode.WEBHOOK else ""
        conn.secret_digest = digest(secret_token) if mode == ConnectionMode.WEBHOOK else ""
        conn.connected_at = conn.updated_at = now
        conn.last_error, conn.last_error_at = "", None
        conn.save()
        audit.record(
            actor=actor,
            action="connector.telegram_connect",
            obj=conn,
            summary=f"@{conn.bot_username} · {conn.get_mode_display()}",
        )
    return conn


def telegram_disconnect(*, actor, client_factory=TelegramClient) -> TelegramConnection | None:
    """Off: the webhook is removed (best effort: a revoked token cannot remove it, and then
    Telegram's calls are refused here anyway) and nothing is sent any more; the actions wait
    in the outbox for whoever carries them next."""
    require(actor, "webhook.manage")
    org = actor.organization
    conn = connection(org)
    if conn is None or not conn.is_on:
        return conn
    token = bot_token(org)
    if conn.mode == ConnectionMode.WEBHOOK and token:
        try:
            with client_factory(token) as client:
                client.call("delete_webhook")
        except error.TelegramError:
            pass
    with transaction.atomic():
        conn.mode, conn.state = ConnectionMode.OFF, ConnectionState.OFF
        conn.path_digest = conn.secret_digest = ""
        conn.updated_at = timezone.now()
        conn.save()
        audit.record(actor=actor, action="connector.telegram_disconnect", obj=conn)
    return conn


def usable_token(conn) -> str | None:
    """The token to act with, only while the connection is on and set up with the live token:
    after the token is replaced, the connection must be made again (another bot, perhaps)."""
    if not conn.is_on or conn.state == ConnectionState.BROKEN:
        return None
    live = live_credential(conn.organization_id)
    if live is None or live.pk != conn.credential_id:
        mark_broken(conn, _("The bot's token was replaced: connect again to use the new one."))
        return None
    return bot_token(conn.organization_id)


mark_broken, note_error, stamp = state.mark_broken, state.note_error, state.stamp


def save_offset(conn, offset: int) -> None:
    TelegramConnection.objects.for_org(conn.organization_id).filter(
        pk=conn.pk, update_offset__lt=offset
    ).update(update_offset=offset)
    conn.update_offset = max(conn.update_offset, offset)


# --- chats ----------------------------------------------------------------------------------


def chat_seen(org, chat, **changes) -> TelegramChat:
    """The chat's row, created on first sight with its own id as the group's id in Qunyun;
    title and type kept current; `changes` (the bot's status and rights) applied."""
    row = TelegramChat.objects.for_org(org).filter(chat_id=chat.id).first()
    values = {"title": (chat.title or "")[:255], "chat_type": chat.type or "", **changes}
    if row is None:
        row, _created = TelegramChat.objects.for_org(org).get_or_create(
            organization=org,
            chat_id=chat.id,
            defaults={"external_id": str(chat.id), "updated_at": timezone.now(), **values},
        )
        return row
    dirty = {k: v for k, v in values.items() if v not in ("", None) and getattr(row, k) != v}
    if dirty:
        for key, value in dirty.items():
            setattr(row, key, value)
        row.updated_at = timezone.now()
        row.save(update_fields=[*dirty, "updated_at"])
    return row


def chat_migrated(org, old_id: int, new_id: int, title: str = "") -> TelegramChat:
    """A group upgraded to a supergroup: the new chat id takes the old one's place, and the
    group keeps its id in Qunyun (its members, history and rules). Idempotent: Telegram tells
    it twice (in the old group, `migrate_to_chat_id`; in the new one, `migrate_from_chat_id`)."""
    with transaction.atomic():
        rows = TelegramChat.objects.for_org(org).select_for_update()
        old = rows.filter(chat_id=old_id).first()
        new = rows.filter(chat_id=new_id).first()
        if old is not None:
            external = old.external_id
        elif new is not None:
            external = new.external_id
        else:
            external = str(old_id)
        if new is None:
            new = TelegramChat(
                organization=org, chat_id=new_id, external_id=external, chat_type="supergroup"
            )
        else:
            new.external_id = external
        new.migrated_from, new.updated_at = old_id, timezone.now()
        new.title = (title or new.title or (old.title if old else ""))[:255]
        if old is not None:
            new.bot_status = new.bot_status or old.bot_status
            new.can_delete = new.can_delete or old.can_delete
            new.can_restrict = new.can_restrict or old.can_restrict
            new.can_pin = new.can_pin or old.can_pin
            if old.bot_status != "migrated":
                old.bot_status, old.problem = "migrated", ""  # no longer answers for the group
                old.save(update_fields=["bot_status", "problem"])
        new.save()
    return new


def chat_problem(org, chat_id: int, problem: str, bot_status: str | None = None) -> None:
    changes = {"problem": problem[:300], "updated_at": timezone.now()}
    if bot_status is not None:
        changes["bot_status"] = bot_status
    TelegramChat.objects.for_org(org).filter(chat_id=chat_id).update(**changes)


def token_refused_message(exc) -> str:
    return _(
        "Telegram refused the bot's token (%(error)s): it was revoked in BotFather or the bot "
        "was deleted. Paste the current token and connect again."
    ) % {"error": in_words(exc)}


def conflict_message(exc) -> str:
    return _(
        "Telegram says another process is reading this bot's updates (%(error)s): run one "
        "poller only, and do not use the same bot in another tool."
    ) % {"error": in_words(exc)}


def skipped_message(update_id) -> str:
    return _(
        "Telegram update %(id)s could not be applied and was skipped (the server log has the "
        "details)."
    ) % {"id": update_id}
