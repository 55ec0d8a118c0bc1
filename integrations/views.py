from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors, flash_errors
from tenancy.mixins import OrgViewMixin

from . import delivery
from .forms import WebhookForm
from .models import WebhookDelivery, WebhookEndpoint


class WebhooksView(OrgViewMixin, View):
    """Endpoints (create: the secret is shown once) and the delivery log with retry."""

    capability = "webhook.manage"

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

    def post(self, request, org_slug):
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = delivery.endpoint_create(actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.get(request, org_slug, created={"endpoint": endpoint, "secret": secret})
        return self.get(request, org_slug, form=form, status=400)


class WebhookToggleView(OrgViewMixin, View):
    capability = "webhook.manage"

    def post(self, request, org_slug, pk):
        endpoint = self.get_org_object(WebhookEndpoint, pk=pk)
        delivery.endpoint_set_active(
            actor=self.actor, endpoint=endpoint, active=not endpoint.is_active
        )
        messages.success(request, _("Saved."))
        return redirect("webhooks", org_slug=org_slug)


class DeliveryRetryView(OrgViewMixin, View):
    capability = "webhook.manage"

    def post(self, request, org_slug, pk):
        target = self.get_org_object(WebhookDelivery, pk=pk)
        try:
            delivery.delivery_retry(actor=self.actor, delivery=target)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("It will be sent again within a minute."))
        return redirect("webhooks", org_slug=org_slug)
