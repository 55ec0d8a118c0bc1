"""Getting actions to the bots: pull (lease and acknowledge) and push (signed webhooks with
retries). Every step is a guarded state transition, so two workers or two polling bots never
take the same action twice, and a crash leaves the work to be done again, not lost."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.hooks import Hook
from tenancy import audit
from tenancy.permissions import require
from tenancy.services import api_key_seen

from . import netguard, outbox
from .models import (
    Action,
    ActionKind,
    ActionStatus,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

LEASE = timedelta(seconds=getattr(settings, "ACTION_LEASE_SECONDS", 300))
MAX_LEASE_BATCH = 100
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30
WEBHOOK_TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Qunyun-Signature"
TIMESTAMP_HEADER = "X-Qunyun-Timestamp"
ID_HEADER = "X-Qunyun-Action-Id"
# The Standard Webhooks set (standardwebhooks.com), sent beside ours: `webhook-signature` is
# `v1,` + base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>", keyed with the
# same secret (its UTF-8 bytes); the libraries take it as `standard_webhooks_secret()`.
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"


def action_body(action) -> dict:
    """What a bot receives for an action, by webhook or by polling."""
    return {
        "id": action.pk,
        "kind": action.kind,
        "created_at": action.created_at.isoformat(),
        "payload": action.payload,
    }


# --- connectors ------------------------------------------------------------------------------

# connector_platforms(org) -> what a first-party connector of the organization carries out:
# a platform (connectors/: "telegram" while its Telegram connection is on: every kind), or
# (platform, kinds) when the platform's API allows only some kinds (WeCom customer groups: no
# removal, no reply). REST bots, by polling or by webhook, are not handed those actions, so a
# WeChat bot never takes a Telegram group's welcome; the connector leases them with
# `lease_for_connector`. The kinds a connector cannot carry stay for REST bots.
connector_platforms = Hook("connector_platforms")


def _carried(org) -> Q | None:
    """The actions the organization's connectors carry, as a filter (None: none)."""
    found = Q()
    for carried in connector_platforms(org=org):
        for item in carried:
            if isinstance(item, str):
                found |= Q(payload__platform=item)
            else:
                platform, kinds = item
                found |= Q(payload__platform=platform, kind__in=list(kinds))
    return found if found else None


def _for_rest_bots(qs, org):
    carried = _carried(org)
    return qs.exclude(carried) if carried is not None else qs


def lease_for_connector(*, actor, platform, kinds=None, limit=MAX_LEASE_BATCH) -> list[Action]:
    """Like `lease_pending`, for a first-party connector: only the actions of its platform
    (and of these kinds, when given), oldest first, skipping those another worker holds."""
    require(actor, "integration.actions")
    limit = max(1, min(int(limit), MAX_LEASE_BATCH))
    now = timezone.now()
    available = Q(status=ActionStatus.PENDING) | Q(status=ActionStatus.LEASED, lease_until__lt=now)
    if kinds is not None:
        available &= Q(kind__in=list(kinds))
    with transaction.atomic():
        picked = list(
            Action.objects.for_org(actor.organization)
            .filter(available, payload__platform=platform)
            .select_for_update(skip_locked=True)
            .order_by("pk")[:limit]
        )
        for action in picked:
            action.status, action.lease_until = ActionStatus.LEASED, now + LEASE
            action.attempts += 1
            action.updated_at = now
        Action.objects.bulk_update(picked, ["status", "lease_until", "attempts", "updated_at"])
    return picked


def postpone(*, actor, action, until) -> None:
    """A connector could not carry the action out now (the platform said to wait, the chat's
    rate limit, a network error): it stays leased until `until`, then is picked up again."""
    require(actor, "integration.actions")
    Action.objects.for_org(actor.organization).filter(
        pk=action.pk, status=ActionStatus.LEASED
    ).update(lease_until=until, updated_at=timezone.now())


def await_staff(*, actor, action, detail="") -> None:
    """The connector handed the action to the platform, where a staff member must confirm it
    (a WeCom 客户群群发 task): it waits, leased by nobody, until the connector acknowledges it
    done or failed from the platform's send result."""
    require(actor, "integration.actions")
    detail = (detail or "").replace("\x00", "")[:500]
    Action.objects.for_org(actor.organization).filter(
        pk=action.pk, status=ActionStatus.LEASED
    ).update(
        status=ActionStatus.WAITING_STAFF,
        outcome=detail,
        lease_until=None,
        updated_at=timezone.now(),
    )


# --- pull ------------------------------------------------------------------------------------


def lease_pending(*, actor, limit=MAX_LEASE_BATCH, kinds=None, community_id=None) -> list[Action]:
    """Hand up to `limit` pending actions to a polling bot. Leased actions not acknowledged
    within the lease go back to pending; two bots polling at once get different actions."""
    require(actor, "integration.actions")
    limit = max(1, min(int(limit), MAX_LEASE_BATCH))
    now, org = timezone.now(), actor.organization
    available = Q(status=ActionStatus.PENDING) | Q(status=ActionStatus.LEASED, lease_until__lt=now)
    with transaction.atomic():
        qs = _for_rest_bots(Action.objects.for_org(actor.organization).filter(available), org)
        if kinds:
            qs = qs.filter(kind__in=kinds)
        if community_id is not None:
            qs = qs.filter(community_id=community_id)
        picked = list(qs.select_for_update(skip_locked=True).order_by("pk")[:limit])
        for action in picked:
            action.status, action.lease_until = ActionStatus.LEASED, now + LEASE
            action.attempts += 1
            action.updated_at = now
        Action.objects.bulk_update(picked, ["status", "lease_until", "attempts", "updated_at"])
    api_key_seen(actor.api_key, "poll")
    return picked


def acknowledge(*, actor, action, status, detail="") -> Action:
    """The bot says how it went: done or failed (with a detail). Repeating the same answer
    changes nothing; an answer for a finished action with another outcome is refused."""
    require(actor, "integration.actions")
    if status not in (ActionStatus.DONE, ActionStatus.FAILED):
        raise ValidationError({"status": [_("Answer “done” or “failed”.")]})
    detail = (detail or "").replace("\x00", "")[:500]
    with transaction.atomic():
        action = Action.objects.for_org(actor.organization).select_for_update().get(pk=action.pk)
        if action.status in (ActionStatus.DONE, ActionStatus.FAILED):
            if action.status == status:
                return action
            raise Conflict(
                _("This action is already finished as “%(status)s”.") % {"status": action.status}
            )
        action.status, action.outcome = status, detail
        action.finished_at = action.updated_at = timezone.now()
        action.lease_until = None
        action.save(update_fields=["status", "outcome", "finished_at", "updated_at", "lease_until"])
        outbox.action_finished(action=action)
    api_key_seen(actor.api_key, "ack")
    return action


# --- push: endpoints ---------------------------------------------------------------------------


def endpoint_secret(endpoint) -> str:
    return hmac.new(
        settings.API_KEY_HASH_KEY.encode(), f"webhook:{endpoint.nonce}".encode(), hashlib.sha256
    ).hexdigest()


def endpoint_create(*, actor, url, kinds=()) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once; only a nonce is stored)."""
    require(actor, "webhook.manage")
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError({"url": [_("Enter a full http(s) address.")]}) from None
    check_endpoint_url(url)
    kinds = list(dict.fromkeys(kinds or []))
    if any(kind not in ActionKind.values for kind in kinds):
        raise ValidationError({"kinds": [_("Choose among the listed action kinds.")]})
    endpoint = WebhookEndpoint(
        organization=actor.organization, url=url, nonce=secrets.token_hex(16), kinds=kinds
    )
    secret = endpoint_secret(endpoint)
    endpoint.secret_hint = secret[:6]
    with transaction.atomic():
        endpoint.save()
        audit.record(actor=actor, action="webhook.create", obj=endpoint, summary=url[:200])
    return endpoint, secret


def check_endpoint_url(url: str) -> None:
    """The address policy of integrations/netguard.py, as a form/API field error."""
    try:
        netguard.resolve(url)
    except netguard.Refused as refused:
        if refused.category == netguard.DNS_FAILED:
            message = _("The host name does not resolve.")
        elif refused.category == netguard.ADDRESS_REFUSED:
            message = _(
                "This address is on a loopback, private or otherwise internal network; "
                "webhooks are only sent to public addresses."
            )
        else:
            message = _("Enter a full http(s) address without a user name or password.")
        raise ValidationError({"url": [message]}) from None


def endpoint_set_active(*, actor, endpoint, active: bool) -> WebhookEndpoint:
    """Pausing an endpoint stops it at once: its waiting deliveries end (as given up, with
    the reason), and the actions nobody else will deliver go back to the pull queue now."""
    require(actor, "webhook.manage")
    with transaction.atomic():
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
        if not active:
            stop_deliveries(endpoint.organization_id, endpoint_ids=[endpoint.pk])
        audit.record(
            actor=actor, action="webhook.enable" if active else "webhook.disable", obj=endpoint
        )
    return endpoint


def stop_deliveries(org_id, *, endpoint_ids) -> int:
    """End the waiting deliveries of these (paused) endpoints and release their actions."""
    now = timezone.now()
    waiting = WebhookDelivery.objects.for_org(org_id).filter(
        endpoint_id__in=endpoint_ids,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
    )
    action_ids = list(waiting.values_list("action_id", flat=True))
    stopped = waiting.update(
        status=DeliveryStatus.DEAD, last_error=netguard.ENDPOINT_DISABLED, next_attempt_at=now
    )
    _release_undelivered(org_id, action_ids)
    return stopped


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def standard_webhooks_secret(secret: str) -> str:
    """The endpoint's secret as Standard Webhooks libraries take it: `whsec_` + base64 of the
    secret's UTF-8 bytes (the same HMAC key as for X-Qunyun-Signature)."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_headers(secret: str, action_id: int, timestamp: str, body: bytes) -> dict:
    """`webhook-id` (`action-<id>`, the same on every retry), `webhook-timestamp`,
    `webhook-signature`."""
    message_id = f"action-{action_id}"
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return {
        STANDARD_ID_HEADER: message_id,
        STANDARD_TIMESTAMP_HEADER: timestamp,
        STANDARD_SIGNATURE_HEADER: "v1," + base64.b64encode(digest).decode(),
    }


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance=300) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- push: delivery ---------------------------------------------------------------------------


def schedule_deliveries(org) -> int:
    """Create a delivery for every pending action and every active endpoint that wants it.
    The actions are moved to `leased` with a long lease so the pull API does not hand them
    out too; if every endpoint gives up they return to pending for polling bots (and stay
    there: an endpoint that already gave up on an action does not take it again)."""
    endpoints = list(WebhookEndpoint.objects.for_org(org).filter(is_active=True))
    if not endpoints:
        return 0
    now = timezone.now()
    created = 0
    with transaction.atomic():
        actions = list(
            _for_rest_bots(Action.objects.for_org(org).filter(status=ActionStatus.PENDING), org)
            .select_for_update(skip_locked=True)
            .order_by("pk")[:1000]
        )
        rows = [
            WebhookDelivery(organization=org, action=a, endpoint=e, next_attempt_at=now)
            for a in actions
            for e in endpoints
            if e.wants(a.kind)
        ]
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        wanted = set(
            WebhookDelivery.objects.for_org(org)
            .filter(action_id__in={row.action_id for row in rows})
            .exclude(status=DeliveryStatus.DEAD)
            .values_list("action_id", flat=True)
        )
        Action.objects.for_org(org).filter(pk__in=wanted).update(
            status=ActionStatus.LEASED,
            lease_until=now + RETRY_FOR + timedelta(hours=1),
            updated_at=now,
        )
        created = len(rows)
    return created


def deliver_due(org, *, limit=200, opener=None) -> dict:
    """Send the deliveries that are due. Each is claimed with skip_locked inside its own
    transaction, so a worker that dies mid-request leaves it to be sent again. Deliveries of
    paused endpoints are never sent (and are ended here too, should any be left waiting)."""
    paused = WebhookEndpoint.objects.for_org(org).filter(is_active=False).values("pk")
    if (
        WebhookDelivery.objects.for_org(org)
        .filter(endpoint__in=paused, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
        .exists()
    ):
        with transaction.atomic():
            stop_deliveries(org.pk, endpoint_ids=paused)
    sent = failed = 0
    for _attempt_number in range(limit):
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.for_org(org)
                .filter(
                    status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
                    next_attempt_at__lte=timezone.now(),
                    endpoint__is_active=True,
                )
                # only the delivery's row: locking the endpoint too would let one worker at a
                # time deliver to an endpoint, and skip_locked would make the others idle
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("action", "endpoint")
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if delivery is None:
                break
            ok = _attempt(delivery, opener or netguard.post)
            sent += ok
            failed += not ok
    return {"sent": sent, "failed": failed}


def _attempt(delivery, opener) -> bool:
    """One try. The host is resolved and checked again now (integrations/netguard.py): an
    address that has become internal since the endpoint was saved is never connected to."""
    action, endpoint = delivery.action, delivery.endpoint
    body = json.dumps(action_body(action), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Qunyun-Webhooks/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(endpoint_secret(endpoint), timestamp, body),
        ID_HEADER: str(action.pk),
        **standard_headers(endpoint_secret(endpoint), action.pk, timestamp, body),
    }
    now = timezone.now()
    delivery.attempts += 1
    code, error = None, ""
    try:
        target = netguard.resolve(endpoint.url)
        code = opener(target, body, headers, WEBHOOK_TIMEOUT_SECONDS)
    except netguard.Refused as refused:
        error = refused.category
    else:
        if 300 <= code < 400:
            error = netguard.REDIRECT
        elif not 200 <= code < 300:
            error = netguard.HTTP_ERROR
    delivery.last_status_code, delivery.last_error = code, error
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
        delivery.save()
        _endpoint_delivered(endpoint, now)
        Action.objects.for_org(delivery.organization_id).filter(pk=action.pk).exclude(
            status__in=[ActionStatus.DONE, ActionStatus.FAILED]
        ).update(
            status=ActionStatus.DONE,
            outcome=_("delivered by webhook"),
            finished_at=now,
            updated_at=now,
            lease_until=None,
        )
        return True
    if now - delivery.created_at >= RETRY_FOR:
        delivery.status = DeliveryStatus.DEAD
        delivery.save()
        _release_if_all_dead(action)
        return False
    delivery.status = DeliveryStatus.RETRYING
    delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save()
    return False


SEEN_RESOLUTION = timedelta(minutes=1)


def _endpoint_delivered(endpoint, now) -> None:
    """Stamp the endpoint's last successful delivery, at most once a minute."""
    last = endpoint.last_delivered_at
    if last is not None and now - last < SEEN_RESOLUTION:
        return
    WebhookEndpoint.objects.for_org(endpoint.organization_id).filter(pk=endpoint.pk).filter(
        Q(last_delivered_at=None) | Q(last_delivered_at__lt=now - SEEN_RESOLUTION)
    ).update(last_delivered_at=now)
    endpoint.last_delivered_at = now


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter: 30 s, 1 min, 2 min … capped at 2 hours."""
    ceiling = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), 2 * 60 * 60)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter


def _release_if_all_dead(action) -> None:
    """No endpoint took it: polling bots may still pick it up."""
    _release_undelivered(action.organization_id, [action.pk])


def _release_undelivered(org_id, action_ids) -> None:
    """Actions among these that no delivery is still working on go back to pending."""
    alive = (
        WebhookDelivery.objects.for_org(org_id)
        .filter(action=OuterRef("pk"))
        .exclude(status=DeliveryStatus.DEAD)
    )
    Action.objects.for_org(org_id).filter(pk__in=action_ids, status=ActionStatus.LEASED).exclude(
        Exists(alive)
    ).update(status=ActionStatus.PENDING, lease_until=None, updated_at=timezone.now())


def delivery_retry(*, actor, delivery) -> WebhookDelivery:
    """The operator's "retry now" button, also for a delivery that gave up."""
    require(actor, "webhook.manage")
    if delivery.status == DeliveryStatus.SUCCEEDED:
        raise Conflict(_("This delivery already succeeded."))
    if not delivery.endpoint.is_active:
        raise Conflict(_("This endpoint is paused: resume it first."))
    with transaction.atomic():
        delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, timezone.now()
        delivery.created_at = timezone.now()  # a fresh 24 hours
        delivery.save(update_fields=["status", "next_attempt_at", "created_at"])
        audit.record(
            actor=actor,
            action="webhook.retry",
            obj=delivery.endpoint,
            summary=_("bot action #%(id)s") % {"id": delivery.action_id},
        )
    return delivery
