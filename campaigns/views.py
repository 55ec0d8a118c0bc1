from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from communities.models import VipTier
from communities.selectors import communities_where
from core import posters as core_posters
from core.formatting import money
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.models import Organization
from tenancy.permissions import can
from tenancy.scope import scoped_stream

from . import group_buys, lottery, posters, services
from .exports import order_rows
from .forms import FlashSaleForm, parse_prizes
from .lottery import verification
from .models import Campaign, CampaignKind, CampaignTarget, LotteryEntry, Order, OrderStatus
from .selectors import budget_warning, campaign_review, month_spend, visible_campaigns


def _campaign_for(actor, pk) -> Campaign:
    try:
        return visible_campaigns(actor).select_related("product", "min_tier").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


class CampaignListView(OrgViewMixin, View):
    capability_anywhere = "campaign.view"

    def get(self, request, org_slug):
        campaigns = (
            visible_campaigns(self.actor)
            .select_related("product")
            .annotate(
                orders_count=Count(
                    "orders",
                    filter=Q(orders__status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]),
                )
            )
            .order_by("-starts_at")[:100]
        )
        may_create = communities_where(self.actor, "campaign.manage").exists()
        today = timezone.now().astimezone(self.organization.tzinfo).date()
        context = {
            "campaigns": campaigns,
            "may_create": may_create,
            "spend": month_spend(self.organization, today),
        }
        return render(request, "campaigns/list.html", context)


class FlashSaleCreateView(OrgViewMixin, ServiceActionView):
    """A new campaign of any kind: the form shows the chosen kind's fields."""

    capability_anywhere = "campaign.manage"
    SAVED = {
        CampaignKind.FLASH_SALE: gettext_lazy("Flash sale saved."),
        CampaignKind.GROUP_BUY: gettext_lazy("Group buy saved."),
        CampaignKind.LOTTERY: gettext_lazy("Lottery saved."),
    }

    def get_success_message(self, campaign):
        return self.SAVED.get(campaign.kind, gettext_lazy("Campaign saved."))

    def _form(self, data=None):
        groups = communities_where(self.actor, "campaign.manage").filter(status="active")
        tiers = VipTier.objects.for_org(self.organization).filter(is_active=True)
        now = timezone.now().astimezone(self.organization.tzinfo)
        initial = {
            "starts_at": (now + timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:00"),
            "ends_at": (now + timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:00"),
        }
        return FlashSaleForm(data, initial=initial, communities=groups, tiers=tiers)

    def get(self, request, org_slug, form=None, status=200):
        return render(
            request, "campaigns/create.html", {"form": form or self._form()}, status=status
        )

    def get_form(self):
        return self._form(self.request.POST)

    def perform(self, form):
        data = dict(form.cleaned_data)
        publish = data.pop("publish")
        kind = data.pop("kind")
        team = {"team_size": data.pop("team_size"), "team_hours": data.pop("team_hours") or 24}
        draw = {
            "prizes": parse_prizes(data.pop("prizes")),
            "draw_at": data.pop("draw_at"),
            "public_source": data.pop("public_source"),
            "public_value_at": data.pop("public_value_at"),
            "require_checkin": data.pop("require_checkin"),
        }
        if kind == "lottery":
            for field in ("price", "original_price", "stock"):
                data.pop(field)
            campaign = lottery.lottery_create(actor=self.actor, **draw, **data)
        elif kind == "group_buy":
            campaign = group_buys.group_buy_create(actor=self.actor, **team, **data)
        else:
            campaign = services.flash_sale_create(actor=self.actor, **data)
        if publish:
            services.campaign_publish(actor=self.actor, campaign=campaign)
        return campaign

    def success_response(self, campaign):
        over = budget_warning(self.organization, campaign.starts_at)
        if over:
            messages.warning(
                self.request,
                _("This month's campaigns now cost %(spent)s, over the budget of %(budget)s.")
                % {"spent": money(over["spent"]), "budget": money(over["budget"])},
            )
        return redirect("campaign-live", org_slug=self.kwargs["org_slug"], pk=campaign.pk)


class CampaignLiveView(OrgViewMixin, View):
    """Stock and orders as they happen: the partial refreshes itself every few seconds."""

    capability_anywhere = "campaign.view"

    def get(self, request, org_slug, pk):
        campaign = _campaign_for(self.actor, pk)
        orders = Order.objects.for_org(self.organization).filter(campaign=campaign)
        totals = orders.aggregate(
            held=Sum(
                "quantity", filter=Q(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.PAID])
            ),
            paid=Sum("quantity", filter=Q(status=OrderStatus.PAID)),
            revenue=Sum("amount", filter=Q(status=OrderStatus.PAID)),
            buyers=Count(
                "member",
                filter=Q(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]),
                distinct=True,
            ),
        )
        sold = campaign.stock_total - campaign.stock_left
        sold_out_seconds = (
            (campaign.sold_out_at - campaign.starts_at).total_seconds()
            if campaign.sold_out_at
            else None
        )
        context = {
            "campaign": campaign,
            "phase": campaign.phase(),
            "sold": sold,
            "sold_out_seconds": sold_out_seconds,
            "percent": int(100 * sold / campaign.stock_total) if campaign.stock_total else 0,
            "totals": totals,
            "show_revenue": can(self.actor, "metrics.revenue"),
            "recent": orders.select_related("member").order_by("-pk")[:20],
            "targets": [
                t.community
                for t in CampaignTarget.objects.for_org(self.organization)
                .filter(campaign=campaign)
                .select_related("community")
            ],
            "can_manage": services.can_manage_campaign(self.actor, campaign),
            "teams": group_buys.team_progress(campaign) if campaign.kind == "group_buy" else None,
            "lottery": lottery.verification(campaign) if campaign.kind == "lottery" else None,
            "entry_count": LotteryEntry.objects.for_org(self.organization)
            .filter(campaign=campaign)
            .count()
            if campaign.kind == "lottery"
            else None,
            "review": campaign_review(campaign)
            if campaign.phase() == "ended" or campaign.sold_out_at
            else None,
        }
        if not request.htmx:
            context["poster_has_text"] = core_posters.has_cjk_font()
        template = "campaigns/partials/live.html" if request.htmx else "campaigns/live.html"
        return render(request, template, context)


class CampaignPosterView(OrgViewMixin, View):
    """The campaign's QR poster (PNG, its public page), to download and share."""

    capability_anywhere = "campaign.view"

    def get(self, request, org_slug, pk):
        campaign = _campaign_for(self.actor, pk)
        response = HttpResponse(posters.poster_png(campaign), content_type="image/png")
        name = f"poster-campaign-{campaign.pk}.png"
        disposition = "attachment" if request.GET.get("download") else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{name}"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class CampaignActionView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "campaign.manage"
    success_message = gettext_lazy("Saved.")
    success_url = "campaign-live"
    success_url_kwargs = ("org_slug", "pk")

    def get_object(self):
        campaign = _campaign_for(self.actor, self.kwargs["pk"])
        if not services.can_manage_campaign(self.actor, campaign):
            raise PermissionDenied
        return campaign

    def perform(self, form):
        if self.kwargs["action"] == "draw":
            lottery.lottery_draw(
                actor=self.actor,
                campaign=self.object,
                public_value=self.request.POST.get("public_value", ""),
            )
        else:
            service = {
                "publish": services.campaign_publish,
                "cancel": services.campaign_cancel,
            }[self.kwargs["action"]]
            service(actor=self.actor, campaign=self.object)


class OrdersExportView(OrgViewMixin, View):
    capability = "metrics.export"

    def get(self, request, org_slug):
        response = StreamingHttpResponse(
            scoped_stream(
                self.organization, order_rows(self.organization, self.organization.tzinfo)
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="orders-{org_slug}.csv"'
        return response


def lottery_verification(request, org, pk):
    """Public: anyone can check a lottery's draw (pseudonymous entrant ids only)."""

    organization = get_object_or_404(Organization, slug=org)
    campaign = get_object_or_404(
        Campaign.objects.for_org(organization).exclude(status="draft"),
        pk=pk,
        kind=CampaignKind.LOTTERY,
    )
    with timezone.override(organization.tzinfo):
        return render(request, "campaigns/lottery_verify.html", verification(campaign))
