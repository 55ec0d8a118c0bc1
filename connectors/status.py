"""The connectors on the bot connections page and the home's warnings (registered on
`integrations.status`'s hooks), and the platforms they carry (`integrations.delivery`)."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.models import Action, ActionStatus
from integrations.platforms import Platform
from tenancy.home import Alert

from .models import ConnectionState, TelegramChat, TelegramConnection, WeComConnection, WeComGroup
from .wecom.sender import CARRIED as WECOM_CARRIED

CHAT_LIST_LIMIT = 50


def platforms_carried(*, org) -> list:
    """ "telegram" while the organization's Telegram connection is on (every kind); ("wecom",
    the kinds WeCom's API can carry) while its WeCom connection is on."""
    carried = []
    if TelegramConnection.objects.for_org(org).exclude(mode="off").exists():
        carried.append(Platform.TELEGRAM.value)
    if WeComConnection.objects.for_org(org).exclude(mode="off").exists():
        carried.append((Platform.WECOM.value, [str(kind) for kind in WECOM_CARRIED]))
    return carried


def pending(org, platform=Platform.TELEGRAM, kinds=None) -> dict:
    actions = Action.objects.for_org(org).filter(payload__platform=platform.value)
    if kinds is not None:
        actions = actions.filter(kind__in=kinds)
    return actions.aggregate(
        waiting=Count("pk", filter=Q(status__in=[ActionStatus.PENDING, ActionStatus.LEASED])),
        oldest=Min("created_at", filter=Q(status__in=[ActionStatus.PENDING, ActionStatus.LEASED])),
        staff=Count("pk", filter=Q(status=ActionStatus.WAITING_STAFF)),
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
        "key": "telegram",
        "platform": _("Telegram"),
        "account": f"@{conn.bot_username}" if conn.bot_username else "",
        "link_text": _("Telegram connection"),
        "connection": conn,
        "chats": chats,
        "problems": [c for c in chats if c.problem],
        "backlog": pending(org),
        "url": reverse("telegram-connector", args=[org.slug]),
    }


def _broken_alert(model, org, key, text, url_name, link_text) -> list[Alert]:
    conn = model.objects.for_org(org).filter(Q(state=ConnectionState.BROKEN) & ~Q(mode="off"))
    conn = conn.first()
    if conn is None:
        return []
    url = reverse(url_name, args=[org.slug])
    return [Alert(key=key, text=text % {"error": conn.last_error}, url=url, link_text=link_text)]


def telegram_alerts(*, org) -> list[Alert]:
    return _broken_alert(
        TelegramConnection,
        org,
        "telegram-broken",
        _("The Telegram connection is broken: %(error)s"),
        "telegram-connector",
        _("Telegram connection"),
    )


def wecom_panel(*, org) -> dict | None:
    """What the bot connections page shows of the WeCom connection. Three queries."""
    conn = WeComConnection.objects.for_org(org).first()
    if conn is None:
        return None
    chats = list(WeComGroup.objects.for_org(org).order_by("-updated_at")[:CHAT_LIST_LIMIT])
    return {
        "key": "wecom",
        "platform": _("WeCom customer groups"),
        "account": conn.corp_id,
        "link_text": _("WeCom connection"),
        "connection": conn,
        "chats": chats,
        "problems": [c for c in chats if c.problem],
        "backlog": pending(org, Platform.WECOM, [str(kind) for kind in WECOM_CARRIED]),
        "url": reverse("wecom-connector", args=[org.slug]),
    }


def wecom_alerts(*, org) -> list[Alert]:
    return _broken_alert(
        WeComConnection,
        org,
        "wecom-broken",
        _("The WeCom connection is broken: %(error)s"),
        "wecom-connector",
        _("WeCom connection"),
    )
