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
from .forms import TelegramModeForm
from .models import ConnectionMode
from .telegram import services, updates

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
