"""The connectors on the bot connections page and the home's warnings (registered on
`integrations.status`'s hooks), and the platforms they carry (`integrations.delivery`)."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.models import Action, ActionStatus
from integrations.platforms import Platform
from tenancy.home import Alert

from .models import ConnectionState, TelegramChat, TelegramConnection

CHAT_LIST_LIMIT = 50


def platforms_carried(*, org) -> list[str]:
    """["telegram"] while the organization's Telegram connection is on."""
    on = TelegramConnection.objects.for_org(org).exclude(mode="off").exists()
    return [Platform.TELEGRAM.value] if on else []


def pending(org) -> dict:
    return (
        Action.objects.for_org(org)
        .filter(
            status__in=[ActionStatus.PENDING, ActionStatus.LEASED],
            payload__platform=Platform.TELEGRAM.value,
        )
        .aggregate(waiting=Count("pk"), oldest=Min("created_at"))
    )


def telegram_panel(*, org) -> dict | None:
    """What the bot connections page shows of the Telegram connection. Three queries."""
    conn = TelegramConnection.objects.for_org(org).first()
    if conn is None:
        return None
    chats = list(
        TelegramChat.objects.for_org(org)
        .exclude(bot_status="migrated")
        .order_by("-updated_at")[:CHAT_LIST_LIMIT]
    )
    return {
        "platform": _("Telegram"),
        "connection": conn,
        "chats": chats,
        "problems": [c for c in chats if c.problem],
        "backlog": pending(org),
        "url": reverse("telegram-connector", args=[org.slug]),
    }


def telegram_alerts(*, org) -> list[Alert]:
    conn = (
        TelegramConnection.objects.for_org(org)
        .filter(Q(state=ConnectionState.BROKEN) & ~Q(mode="off"))
        .first()
    )
    if conn is None:
        return []
    return [
        Alert(
            key="telegram-broken",
            text=_("The Telegram connection is broken: %(error)s") % {"error": conn.last_error},
            url=reverse("telegram-connector", args=[org.slug]),
            link_text=_("Telegram connection"),
        )
    ]
