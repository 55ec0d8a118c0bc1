from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin

from . import delivery
from .forms import WebhookForm
from .models import WebhookDelivery, WebhookEndpoint


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
