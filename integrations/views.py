from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View

from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin

from . import delivery, status, telegram_webapp
from .forms import TelegramTokenForm, WebhookForm
from .models import BotCredential, WebhookDelivery, WebhookEndpoint
from .platforms import Platform


class WebhooksView(OrgViewMixin, ServiceActionView):
    """Endpoints (create: the secret is shown once) and the delivery log with retry."""

    capability = "webhook.manage"
    form_class = WebhookForm

    def get(self, request, org_slug, form=None, created=None, status=200):
        deliveries = (
            WebhookDelivery.objects.for_org(self.organization)
            .select_related("action", "endpoint")
            .order_by("-pk")
        )
        context = {
            "endpoints": WebhookEndpoint.objects.for_org(self.organization).order_by("-pk"),
            "page": Paginator(deliveries, 50).get_page(request.GET.get("page")),
            "form": form or WebhookForm(),
            "created": created,
        }
        return render(request, "integrations/webhooks.html", context, status=status)

    def perform(self, form):
        return delivery.endpoint_create(actor=self.actor, **form.cleaned_data)

    def success_response(self, result):
        endpoint, secret = result  # the only time the secret is shown
        created = {
            "endpoint": endpoint,
            "secret": secret,
            "standard_secret": delivery.standard_webhooks_secret(secret),
        }
        return self.get(self.request, *self.args, created=created, **self.kwargs)


class WebhookToggleView(OrgViewMixin, ServiceActionView):
    capability = "webhook.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "webhooks"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(WebhookEndpoint, pk=self.kwargs["pk"])

    def perform(self, form):
        delivery.endpoint_set_active(
            actor=self.actor, endpoint=self.object, active=not self.object.is_active
        )


class DeliveryRetryView(OrgViewMixin, ServiceActionView):
    capability = "webhook.manage"
    success_message = gettext_lazy("It will be sent again within a minute.")
    success_url = "webhooks"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(WebhookDelivery, pk=self.kwargs["pk"])

    def perform(self, form):
        delivery.delivery_retry(actor=self.actor, delivery=self.object)


class TelegramBotView(OrgViewMixin, ServiceActionView):
    """The organization's Telegram bot token: it verifies members who open their page as a
    Telegram Mini App. Write-only: after saving, only its last four characters show."""

    capability = "webhook.manage"
    form_class = TelegramTokenForm
    success_message = gettext_lazy("Saved. The token is stored encrypted.")
    success_url = "telegram-bot"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        credentials = BotCredential.objects.for_org(self.organization).filter(
            platform=Platform.TELEGRAM
        )
        context = {
            "current": credentials.filter(retired_at=None).first(),
            "form": form or TelegramTokenForm(),
            "mini_app_url": settings.SITE_URL
            + reverse("member-telegram", kwargs={"org": self.organization.slug}),
        }
        return render(request, "integrations/telegram.html", context, status=status)

    def perform(self, form):
        return telegram_webapp.telegram_token_set(
            actor=self.actor, token=form.cleaned_data["token"]
        )


class BotStatusView(OrgViewMixin, View):
    """Is a bot connected? Per API key and webhook endpoint: when it last sent an event, polled,
    acknowledged or took a delivery; and how long the outbox has waited."""

    capability = "webhook.manage"

    def get(self, request, org_slug):
        context = {
            **status.connections(self.organization),
            "wait_minutes": settings.BOT_ACTIONS_WAITING_MINUTES,
            "silent_hours": settings.BOT_SILENT_HOURS,
        }
        return render(request, "integrations/bot_status.html", context)
