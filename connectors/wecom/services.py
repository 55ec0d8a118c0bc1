"""Connecting an organization's WeCom app, and the connection's state: every write to
`WeComConnection` is here (the groups' in connectors/wecom/groups.py).

The operator pastes the corp id, the app's secret (客户联系 secret, or an app's with the
customer-contact permission), and the callback's Token and EncodingAESKey from WeCom's admin;
the secrets are sealed together as the organization's WeCom `BotCredential`. Connecting checks
them with `gettoken`. The callback address names the organization and a path secret derived
from a random nonce and the server's key: the operator pastes it into WeCom's admin, so the
page shows it again; saving anew makes a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import credentials
from integrations.platforms import Platform
from tenancy import audit
from tenancy.permissions import require

from .. import state
from ..models import ConnectionState, WeComConnection, WeComMode
from . import crypto
from .client import TOKEN_REFUSED, Unreachable, WeComClient, WeComError, in_words

CORP_ID = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
TOKEN = re.compile(r"^[A-Za-z0-9]{1,32}$")

mark_broken, note_error, stamp = state.mark_broken, state.note_error, state.stamp


def connection(org) -> WeComConnection | None:
    return WeComConnection.objects.for_org(org).select_related("credential").first()


def live_credential(org):
    return credentials.live(org, Platform.WECOM)


def path_secret(conn) -> str:
    return hmac.new(
        settings.API_KEY_HASH_KEY.encode(), f"wecom:{conn.path_nonce}".encode(), hashlib.sha256
    ).hexdigest()[:40]


def path_matches(conn, offered: str) -> bool:
    offered = (offered or "").encode()  # bytes: a non-ASCII str would make compare_digest raise
    return bool(conn.path_nonce) and hmac.compare_digest(path_secret(conn).encode(), offered)


def callback_url(conn) -> str:
    return settings.SITE_URL + reverse(
        "wecom-callback", kwargs={"org_id": conn.organization_id, "path_secret": path_secret(conn)}
    )


def stored_secrets(conn) -> dict | None:
    """{"secret", "token", "aes_key"} of the connection's credential, or None."""
    return credentials.sealed_fields(conn.credential) if conn.credential_id else None


def cache_key(conn) -> str:
    return f"wecom-token:{conn.organization_id}:{conn.credential_id}"


def client_for(conn, client_factory=WeComClient):
    """A client with the connection's secrets, only while it is on and set up with the live
    credential; None otherwise."""
    if not conn.is_on or conn.state == ConnectionState.BROKEN:
        return None
    live = live_credential(conn.organization_id)
    if live is None or live.pk != conn.credential_id:
        mark_broken(conn, _("The WeCom secrets were replaced: connect again to use them."))
        return None
    found = stored_secrets(conn)
    if not found:
        mark_broken(conn, _("The stored WeCom secrets cannot be read: enter them again."))
        return None
    return client_factory(corp_id=conn.corp_id, secret=found["secret"], cache_key=cache_key(conn))


def connected(org, client_factory=WeComClient):
    """(the connection, a client for it), or (the connection or None, None) when it cannot
    act now."""
    conn = connection(org)
    if conn is None:
        return None, None
    return conn, client_for(conn, client_factory)


def _clean(corp_id, agent_id, secret, token, aes_key, current) -> dict:
    errors = {}
    corp_id, agent_id = (corp_id or "").strip(), (agent_id or "").strip()
    secret, token, aes_key = (secret or "").strip(), (token or "").strip(), (aes_key or "").strip()
    current = current or {}
    secret, token = secret or current.get("secret", ""), token or current.get("token", "")
    aes_key = aes_key or current.get("aes_key", "")
    if not CORP_ID.match(corp_id):
        errors["corp_id"] = [_("Paste the corp id (企业ID) from My Company in WeCom's admin.")]
    if agent_id and not agent_id.isdigit():
        errors["agent_id"] = [_("The AgentId is a number, from the app's page in WeCom's admin.")]
    if not (8 <= len(secret) <= 128) or not secret.isascii():
        errors["secret"] = [_("Paste the app's Secret from WeCom's admin.")]
    if not TOKEN.match(token):
        errors["token"] = [_("The callback Token is up to 32 letters and digits.")]
    try:
        crypto.aes_key(aes_key)
    except ValueError:
        errors["aes_key"] = [_("The EncodingAESKey is 43 letters and digits, as WeCom made it.")]
    if errors:
        raise ValidationError(errors)
    return {"corp_id": corp_id, "agent_id": agent_id, "secret": secret, "token": token,
            "aes_key": aes_key}  # fmt: skip


def wecom_connect(
    *, actor, corp_id, secret="", token="", aes_key="", agent_id="", client_factory=WeComClient
) -> WeComConnection:
    """Store the app's secrets and turn the connection on, once WeCom accepts them. Empty
    secret fields keep the ones stored. A refused secret or an unreachable WeCom is a form
    error; nothing is saved."""
    require(actor, "webhook.manage")
    org = actor.organization
    conn = connection(org)
    current = stored_secrets(conn) if conn is not None else None
    clean = _clean(corp_id, agent_id, secret, token, aes_key, current)
    try:
        with client_factory(
            corp_id=clean["corp_id"], secret=clean["secret"], cache_key="wecom-check"
        ) as client:
            client.token(fresh=True)
    except WeComError as exc:
        message = (
            _("WeCom does not accept this corp id and secret: %(error)s")
            if exc.errcode in TOKEN_REFUSED
            else _("WeCom refused: %(error)s")
        )
        raise ValidationError({"secret": [message % {"error": in_words(exc)}]}) from None
    except Unreachable as exc:
        raise ValidationError(
            {"corp_id": [_("WeCom could not be reached: %(error)s") % {"error": in_words(exc)}]}
        ) from None
    fields = {k: clean[k] for k in ("secret", "token", "aes_key")}
    now = timezone.now()
    with transaction.atomic():
        if fields != current or conn is None or conn.credential_id is None:
            credential = credentials.sealed_fields_set(
                actor=actor,
                platform=Platform.WECOM,
                fields=fields,
                hint=clean["secret"][-4:],
                audit_action="integration.wecom_secrets",
            )
        else:
            credential = conn.credential
        conn, _created = (
            WeComConnection.objects.for_org(org).select_for_update().get_or_create(organization=org)
        )
        conn.mode, conn.state, conn.credential = WeComMode.CALLBACK, ConnectionState.OK, credential
        conn.corp_id, conn.agent_id = clean["corp_id"], clean["agent_id"]
        conn.path_nonce = conn.path_nonce or secrets.token_hex(16)  # the URL WeCom has
        conn.connected_at = conn.updated_at = now
        conn.last_error, conn.last_error_at = "", None
        conn.save()
        audit.record(actor=actor, action="connector.wecom_connect", obj=conn, summary=conn.corp_id)
    return conn


def wecom_disconnect(*, actor) -> WeComConnection | None:
    """Off: the callback answers nothing and nothing is sent; the secrets stay stored."""
    require(actor, "webhook.manage")
    conn = connection(actor.organization)
    if conn is None or not conn.is_on:
        return conn
    with transaction.atomic():
        conn.mode, conn.state = WeComMode.OFF, ConnectionState.OFF
        conn.path_nonce, conn.updated_at = "", timezone.now()
        conn.save()
        audit.record(actor=actor, action="connector.wecom_disconnect", obj=conn)
    return conn


def refused_message(exc) -> str:
    return _(
        "WeCom refused the app's secret (%(error)s): it was reset in WeCom's admin or the app "
        "lost the customer-contact permission. Enter the current secret and connect again."
    ) % {"error": in_words(exc)}


def unreachable_message(exc) -> str:
    return _("WeCom could not be reached (%(error)s); trying again shortly.") % {
        "error": in_words(exc)
    }
