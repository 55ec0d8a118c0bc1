import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.models import Organization
from tenancy.scope import org_scope

from . import status
from .forms import TelegramModeForm, WeComForm
from .models import ConnectionMode, WeComMode
from .telegram import services, updates
from .wecom import callbacks as wecom_callbacks
from .wecom import crypto as wecom_crypto
from .wecom import services as wecom_services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_UPDATE_BYTES = 1_000_000


class TelegramConnectorView(OrgViewMixin, ServiceActionView):
    """The Telegram connection: webhook, long polling or off; its state and its groups."""

    capability = "webhook.manage"
    form_class = TelegramModeForm
    success_message = gettext_lazy("Saved.")
    success_url = "telegram-connector"
    success_url_kwargs = ("org_slug",)
    atomic = False  # the service calls Telegram, then writes in its own transaction

    def get(self, request, org_slug, form=None, status=200):
        org = self.organization
        conn = services.connection(org)
        current = conn.mode if conn else ConnectionMode.OFF
        context = {
            "panel": _panel(org),
            "credential": services.live_credential(org),
            "form": form or TelegramModeForm(initial={"mode": current}),
            "https": settings.SITE_URL.startswith("https://"),
        }
        return render(request, "connectors/telegram.html", context, status=status)

    def perform(self, form):
        return services.telegram_connect(actor=self.actor, mode=form.cleaned_data["mode"])


def _panel(org):
    return status.telegram_panel(org=org)


def _wecom_panel(org):
    return status.wecom_panel(org=org)


@method_decorator(csrf_exempt, name="dispatch")
class TelegramWebhookView(View):
    """Where Telegram posts updates (`setWebhook`). The organization's id and a random path
    secret name the connection; the `X-Telegram-Bot-Api-Secret-Token` header must match the
    `secret_token` Qunyun registered. Anything else is a 404 (a wrong path) or a 403 (a
    wrong header), and nothing is read."""

    http_method_names = ["post"]

    def post(self, request, org_id, path_secret):
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return HttpResponseNotFound()
        with org_scope(org):
            conn = services.connection(org)
            if (
                conn is None
                or conn.mode != ConnectionMode.WEBHOOK
                or not services.secret_matches(conn.path_digest, path_secret)
            ):
                return HttpResponseNotFound()
            if not services.secret_matches(conn.secret_digest, request.headers.get(SECRET_HEADER)):
                return HttpResponseForbidden()
            if len(request.body) > MAX_UPDATE_BYTES:
                return HttpResponse(status=413)
            try:
                update = json.loads(request.body)
            except ValueError:
                return HttpResponse(status=400)
            if not isinstance(update, dict):
                return HttpResponse(status=400)
            updates.handle_updates(conn, [update])
            transaction.on_commit(lambda: _send_soon(org.pk))
        return HttpResponse(status=200)


def _send_soon(org_id) -> None:
    """Carry out the actions the update caused (a welcome) without waiting for the beat."""
    from .tasks import telegram_send

    try:
        telegram_send.delay(org_id)
    except Exception:  # noqa: BLE001 - the broker is down: the beat's run sends them
        log.warning("telegram: could not queue the send", exc_info=True)


class WeComConnectorView(OrgViewMixin, ServiceActionView):
    """The WeCom connection: the app's details, the callback address to paste into WeCom's
    admin, its state, its customer groups and what WeCom's API cannot do."""

    capability = "webhook.manage"
    form_class = WeComForm
    success_message = gettext_lazy("Saved. The secrets are stored encrypted.")
    success_url = "wecom-connector"
    success_url_kwargs = ("org_slug",)
    atomic = False  # the service calls WeCom, then writes in its own transaction

    def get(self, request, org_slug, form=None, status=200):
        org = self.organization
        conn = wecom_services.connection(org)
        initial = {
            "mode": conn.mode if conn else WeComMode.CALLBACK,
            "corp_id": conn.corp_id if conn else "",
            "agent_id": conn.agent_id if conn else "",
        }
        context = {
            "panel": _wecom_panel(org),
            "credential": wecom_services.live_credential(org),
            "callback_url": wecom_services.callback_url(conn) if conn and conn.is_on else "",
            "form": form or WeComForm(initial=initial),
        }
        return render(request, "connectors/wecom.html", context, status=status)

    def perform(self, form):
        data = form.cleaned_data
        if data["mode"] == WeComMode.OFF:
            return wecom_services.wecom_disconnect(actor=self.actor)
        conn = wecom_services.wecom_connect(
            actor=self.actor,
            corp_id=data["corp_id"],
            agent_id=data["agent_id"],
            secret=data["secret"],
            token=data["token"],
            aes_key=data["aes_key"],
        )
        org_id = self.organization.pk
        transaction.on_commit(lambda: _queue("wecom_sync", org_id))
        return conn


@method_decorator(csrf_exempt, name="dispatch")
class WeComCallbackView(View):
    """Where WeCom calls: GET to verify the address (echostr), POST with events. The
    organization's id and the path secret name the connection (else 404); the message must be
    signed with its Token (else 403) and decrypt with its EncodingAESKey to a message for its
    corp id (else 400). Nothing else is read."""

    http_method_names = ["get", "post"]

    def dispatch(self, request, org_id, path_secret):
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return HttpResponseNotFound()
        with org_scope(org):
            conn = wecom_services.connection(org)
            if conn is None or not conn.is_on or not wecom_services.path_matches(conn, path_secret):
                return HttpResponseNotFound()
            found = wecom_services.stored_secrets(conn)
            if not found:
                return HttpResponseNotFound()
            try:
                return super().dispatch(request, conn, found)
            except wecom_crypto.Refused as refused:
                log.info("wecom: callback refused (%s)", refused.reason)
                return HttpResponse(status=refused.status)

    def _open(self, request, conn, found, encrypt) -> str:
        return wecom_crypto.verify_and_decrypt(
            token=found["token"],
            encoding_aes_key=found["aes_key"],
            receive_id=conn.corp_id,
            msg_signature=request.GET.get("msg_signature", ""),
            timestamp=request.GET.get("timestamp", ""),
            nonce=request.GET.get("nonce", ""),
            encrypt=encrypt,
        )

    def get(self, request, conn, found):
        echo = self._open(request, conn, found, request.GET.get("echostr", ""))
        return HttpResponse(echo, content_type="text/plain; charset=utf-8")

    def post(self, request, conn, found):
        event = wecom_callbacks.parse(
            self._open(request, conn, found, wecom_callbacks.encrypted_part(request.body))
        )
        wecom_callbacks.handle_event(conn, event)
        org_id = conn.organization_id
        transaction.on_commit(lambda: _queue("wecom_send", org_id))
        return HttpResponse("success", content_type="text/plain; charset=utf-8")


def _queue(task_name: str, org_id) -> None:
    """Run a connector task soon rather than at the beat's next run."""
    from . import tasks

    try:
        getattr(tasks, task_name).delay(org_id)
    except Exception:  # noqa: BLE001 - the broker is down: the beat's run does it
        log.warning("connectors: could not queue %s", task_name, exc_info=True)
