"""Is a bot connected? Per API key (last event, last poll, last acknowledgement) and per webhook
endpoint (last successful delivery, deliveries waiting), and the outbox's backlog: the bot
connections page and the warning on the organization's home.

The "last seen" stamps are written at most once a minute by the paths that see the bot
(tenancy.services.api_key_seen, delivery._endpoint_delivered), so reading them here is cheap and
a busy bot costs no write per request.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.formatting import count, duration
from core.hooks import Hook
from tenancy.home import Alert
from tenancy.models import ApiKey
from tenancy.permissions import can

from .models import Action, ActionStatus, DeliveryStatus, WebhookEndpoint

# connector_panels(org) -> a dict or None per first-party connector (connectors/status.py):
# {"platform", "connection" (mode, state, last update, last send, last error), "chats",
# "problems", "backlog" {"waiting", "oldest"}, "url"}, shown on the bot connections page.
connector_panels = Hook("connector_panels")
# connector_alerts(org) -> [Alert]: a connector's warnings on the organization's home.
connector_alerts = Hook("connector_alerts")

UNFINISHED = [ActionStatus.PENDING, ActionStatus.LEASED]
WAITING = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
LIST_LIMIT = 100


def outbox_backlog(org) -> dict:
    """Actions no bot has finished yet: how many wait to be picked up (`pending`), how many a
    bot or an endpoint holds (`leased`), and when the oldest of them was written. One query,
    on the outbox's index of unfinished actions."""
    found = (
        Action.objects.for_org(org)
        .filter(status__in=UNFINISHED)
        .aggregate(
            pending=Count("pk", filter=Q(status=ActionStatus.PENDING)),
            leased=Count("pk", filter=Q(status=ActionStatus.LEASED)),
            oldest=Min("created_at"),
        )
    )
    waited = (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else None
    return {**found, "waiting": found["pending"] + found["leased"], "oldest_seconds": waited}


def connections(org) -> dict:
    """What the bot connections page shows. Three queries, and the connectors' own."""
    keys = list(
        ApiKey.objects.for_org(org).filter(revoked_at=None).order_by("-created_at")[:LIST_LIMIT]
    )
    endpoints = list(
        WebhookEndpoint.objects.for_org(org)
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status__in=WAITING)),
            oldest_waiting=Min("deliveries__created_at", filter=Q(deliveries__status__in=WAITING)),
        )
        .order_by("-is_active", "-pk")[:LIST_LIMIT]
    )
    now = timezone.now()
    for endpoint in endpoints:
        endpoint.oldest_seconds = (
            (now - endpoint.oldest_waiting).total_seconds() if endpoint.oldest_waiting else None
        )
    return {
        "keys": keys,
        "endpoints": endpoints,
        "backlog": outbox_backlog(org),
        "connectors": [panel for panel in connector_panels(org=org) if panel],
    }


def warnings(org) -> list[Alert]:
    """The home's warnings: actions waiting longer than BOT_ACTIONS_WAITING_MINUTES, and bots
    that sent events before but none for BOT_SILENT_HOURS. Two queries."""
    now = timezone.now()
    link = reverse("bot-status", args=[org.slug])
    alerts = []
    backlog = outbox_backlog(org)
    wait_limit = timedelta(minutes=settings.BOT_ACTIONS_WAITING_MINUTES)
    if backlog["oldest"] is not None and now - backlog["oldest"] > wait_limit:
        alerts.append(
            Alert(
                key="bot-actions-waiting",
                text=ngettext(
                    "%(n)s action is waiting for a bot, for %(age)s. Is your bot connected and "
                    "polling, or its webhook answering?",
                    "%(n)s actions are waiting for a bot; the oldest for %(age)s. Is your bot "
                    "connected and polling, or its webhook answering?",
                    backlog["waiting"],
                )
                % {"n": count(backlog["waiting"]), "age": duration(backlog["oldest_seconds"])},
                url=link,
                link_text=_("Bot connections"),
            )
        )
    last_event = (
        ApiKey.objects.for_org(org).filter(revoked_at=None).aggregate(last=Max("last_event_at"))
    )["last"]
    silent_limit = timedelta(hours=settings.BOT_SILENT_HOURS)
    if last_event is not None and now - last_event > silent_limit:
        alerts.append(
            Alert(
                key="bot-silent",
                text=_("No event has arrived from your bots for %(age)s.")
                % {"age": duration((now - last_event).total_seconds())},
                url=link,
                link_text=_("Bot connections"),
            )
        )
    for found in connector_alerts(org=org):
        alerts.extend(found)
    return alerts


def home_panel(*, actor) -> dict:
    """The bot warnings on the organization's home, for those who can fix them (registered on
    `tenancy.hooks.dashboard_panels`)."""
    if not can(actor, "webhook.manage"):
        return {}
    return {"alerts": warnings(actor.organization)}
