"""REST API of campaigns: flash sales (build, publish, cancel), ordering with an
Idempotency-Key, and orders (pay, cancel, refund)."""

from decimal import Decimal

from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from communities.models import Community, VipTier
from core.api_fields import ListFiltersOnly, object_for_bodiless_action
from core.api_schema import UNPROCESSABLE
from members.models import Member
from tenancy.api_base import TenantAPIView, TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField
from tenancy.scope import scoped_stream

from . import group_buys, lottery, services
from .exports import order_rows
from .models import (
    Campaign,
    CampaignKind,
    CampaignTarget,
    IssuedCoupon,
    LotteryDraw,
    Order,
    OrderStatus,
    Team,
    TeamMember,
)
from .selectors import campaign_review

REFUSAL_STATUS = {
    "already_in_team": status.HTTP_409_CONFLICT,
    "team_closed": status.HTTP_409_CONFLICT,
    "sold_out": status.HTTP_409_CONFLICT,
    "cap_exceeded": status.HTTP_409_CONFLICT,
    "not_live": status.HTTP_409_CONFLICT,
    "not_eligible": status.HTTP_403_FORBIDDEN,
    "idempotency_conflict": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "coupon_invalid": status.HTTP_409_CONFLICT,
}


def _as_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _refusal(exc: services.OrderRefused) -> exceptions.APIException:
    error = exceptions.APIException(detail=exc.message, code=exc.code)
    error.status_code = REFUSAL_STATUS[exc.code]
    return error


class LotterySerializer(serializers.ModelSerializer):
    """What a lottery publishes: at opening the seed's commitment and the named public value
    (source and publication time); at closing the entrant list hash; at the draw the value."""

    class Meta:
        model = LotteryDraw
        fields = [
            "draw_at",
            "commitment",
            "public_source",
            "public_value_at",
            "entries_hash",
            "entries_frozen_at",
            "public_value",
            "draw_rule",
            "drawn_at",
        ]
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    phase = serializers.SerializerMethodField()
    product_name = serializers.CharField(source="product.name", read_only=True)
    communities = serializers.SerializerMethodField()
    lottery = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "kind",
            "name",
            "product_name",
            "status",
            "phase",
            "starts_at",
            "ends_at",
            "price",
            "original_price",
            "stock_total",
            "stock_left",
            "per_member_cap",
            "min_tier",
            "payment_minutes",
            "cost",
            "sold_out_at",
            "communities",
            "lottery",
            "created_at",
        ]
        read_only_fields = fields

    def get_phase(self, obj) -> str:
        return obj.phase()

    @extend_schema_field(LotterySerializer(allow_null=True))
    def get_lottery(self, obj):
        """Lotteries: what they publish; null for other campaigns."""
        draw = getattr(obj, "lottery", None) if obj.kind == CampaignKind.LOTTERY else None
        return LotterySerializer(draw).data if draw is not None else None

    def get_communities(self, obj) -> list[int]:
        return [t.community_id for t in obj.targets.all()]


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "format": "decimal"}],
        "nullable": True,
        "description": "A number; money as a decimal string; null when there is none.",
    }
)
class FigureField(serializers.Field):
    def to_representation(self, value):
        return value


class ReviewFiguresSerializer(serializers.Serializer):
    units = FigureField()
    revenue = FigureField()
    buyers = FigureField()
    targeted = FigureField(help_text="Members of the targeted groups.")
    conversion = FigureField(help_text="Buyers ÷ targeted members.")
    sell_out_seconds = FigureField(help_text="From the start to the last unit; null: not sold out.")
    coupon_cost = FigureField(help_text="Coupon value redeemed on bought orders.")
    cost = FigureField(help_text="The campaign's own cost plus the coupon value redeemed.")


class ReviewRowSerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        choices=[
            "units",
            "revenue",
            "buyers",
            "conversion",
            "sell_out_seconds",
            "coupon_cost",
            "cost",
        ]
    )
    value = FigureField()
    previous = FigureField(help_text="The previous campaign of the same kind; null: none.")
    delta = FigureField(help_text="value - previous; null when either is missing.")


class PrizeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1)


class WinnerSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    prize = serializers.CharField()
    position = serializers.IntegerField(help_text="1 for the first winner drawn.")


@extend_schema_field(PrizeSerializer(many=True))
class PrizeListField(serializers.ListField):
    """[{name, quantity}]: the lottery service checks them (with its own messages)."""


class FlashSaleCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    product_name = serializers.CharField(max_length=120)
    # not needed for lotteries (their stock is the prizes)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=None
    )
    original_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=None
    )
    stock = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=None)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    communities = serializers.ListField(
        child=OrgPrimaryKeyRelatedField(model=Community), min_length=1, max_length=200
    )
    per_member_cap = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    min_tier = OrgPrimaryKeyRelatedField(model=VipTier, required=False, allow_null=True)
    payment_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=15)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    kind = serializers.ChoiceField(
        choices=["flash_sale", "group_buy", "lottery"], default="flash_sale"
    )
    prizes = PrizeListField(
        child=serializers.DictField(),
        required=False,
        max_length=20,
        help_text="Lotteries: [{name, quantity}], top prize first.",
    )
    draw_at = serializers.DateTimeField(
        required=False, help_text="Lotteries: when the draw is, at or after `public_value_at`."
    )
    public_source = serializers.CharField(
        max_length=200,
        required=False,
        help_text=(
            "Lotteries (required): the public value that will decide the draw, named now and "
            "published after entries close, e.g. a national lottery's winning numbers for a "
            "given issue. Shown on the verification page from the start."
        ),
    )
    public_value_at = serializers.DateTimeField(
        required=False,
        help_text="Lotteries (required): when that value is published, after `ends_at`.",
    )
    require_checkin = serializers.BooleanField(default=False)
    require_share = serializers.BooleanField(default=False)
    prizes_per_member = serializers.IntegerField(min_value=1, max_value=10, default=1)
    team_size = serializers.IntegerField(min_value=2, max_value=3, required=False)
    team_hours = serializers.IntegerField(min_value=1, max_value=168, required=False)


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "external_order_id",
            "campaign",
            "member",
            "community",
            "quantity",
            "amount",
            "status",
            "placed_at",
            "expires_at",
            "paid_at",
            "cancelled_at",
            "refunded_at",
            "list_amount",
            "tier_discount",
            "perk_discount",
            "coupon_discount",
            "shipping_fee",
            "shipping_waived",
            "coupon",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "amount": {"help_text": "What is paid (campaign orders: after every discount)."},
            "list_amount": {"help_text": "Unit price × quantity; null for orders bots report."},
            "coupon": {"help_text": "The coupon used (an issued coupon's id), or null."},
        }


class OrderCreateSerializer(serializers.Serializer):
    member = OrgPrimaryKeyRelatedField(model=Member)
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    coupon = OrgPrimaryKeyRelatedField(
        model=IssuedCoupon,
        required=False,
        allow_null=True,
        help_text=(
            "One of the member's coupons; the server computes the price. Refused with "
            "`coupon_invalid` (409) when it is not the member's, used, expired, out of the "
            "coupon's scope or below its minimum spend."
        ),
    )


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = [
            "id",
            "campaign",
            "leader",
            "status",
            "opened_at",
            "deadline",
            "closed_at",
            "members",
        ]
        read_only_fields = fields

    def get_members(self, obj) -> list[int]:
        return list(
            TeamMember.objects.for_org(obj.organization_id)
            .filter(team=obj)
            .values_list("member_id", flat=True)
        )


class TeamMemberSerializer(serializers.Serializer):
    member = OrgPrimaryKeyRelatedField(model=Member)


class TeamOrderSerializer(TeamMemberSerializer):
    coupon = OrgPrimaryKeyRelatedField(
        model=IssuedCoupon,
        required=False,
        allow_null=True,
        help_text=(
            "One of the member's coupons for their group-buy order; the server computes the "
            "price. Refused with `coupon_invalid` (409) as for `orders`."
        ),
    )


class CampaignViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Campaigns. Create builds a flash sale (draft); `publish` schedules it and its
    announcements; `orders` places an order with an `Idempotency-Key` header. Refusals come with
    their own codes: `sold_out`, `cap_exceeded`, `not_live` (409), `not_eligible` (403),
    `idempotency_conflict` (422), `coupon_invalid` (409)."""

    summaries = {
        "publish": "Publish a campaign",
        "cancel": "Cancel a campaign",
        "review": "Review a campaign against the previous one",
        "entries": "Enter a member in a lottery",
        "draw": "Draw a lottery now",
        "teams": "Open a group-buy team",
        "orders": "Place an order",
    }
    conflicts = ("publish", "cancel", "entries", "draw", "teams", "orders")

    model = Campaign
    serializer_class = CampaignSerializer
    capability = "campaign.view"
    capabilities = {
        "list": "campaign.view",
        "retrieve": "campaign.view",
        "create": "campaign.manage",
        "publish": "campaign.manage",
        "cancel": "campaign.manage",
        "orders": "order.manage",
        "review": "campaign.view",
        "teams": "order.manage",
        "entries": "order.manage",
        "draw": "campaign.manage",
    }

    def refine_queryset(self, queryset):
        return (
            queryset.select_related("product", "lottery")
            .prefetch_related(
                Prefetch("targets", queryset=CampaignTarget.objects.for_org(self.organization))
            )
            .order_by("-pk")
        )

    @extend_schema(request=FlashSaleCreateSerializer, responses={201: CampaignSerializer})
    def create(self, request):
        data = FlashSaleCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        kind = values.pop("kind")
        team = {
            "team_size": values.pop("team_size", None),
            "team_hours": values.pop("team_hours", 24),
        }
        lottery_fields = {
            k: values.pop(k, None)
            for k in (
                "prizes",
                "draw_at",
                "public_source",
                "public_value_at",
                "require_checkin",
                "require_share",
                "prizes_per_member",
            )
        }
        if kind == "group_buy":
            campaign = group_buys.group_buy_create(actor=self.actor, **team, **values)
        elif kind == "lottery":
            values.pop("price"), values.pop("original_price"), values.pop("stock")
            prizes = [
                (p.get("name", ""), _as_int(p.get("quantity")))
                for p in lottery_fields["prizes"] or []
            ]
            campaign = lottery.lottery_create(
                actor=self.actor,
                prizes=prizes,
                draw_at=lottery_fields["draw_at"],
                public_source=lottery_fields["public_source"],
                public_value_at=lottery_fields["public_value_at"],
                require_checkin=lottery_fields["require_checkin"],
                require_share=lottery_fields["require_share"],
                prizes_per_member=lottery_fields["prizes_per_member"],
                **values,
            )
        else:
            campaign = services.flash_sale_create(actor=self.actor, **values)
        return Response(self.get_serializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        campaign = services.campaign_publish(
            actor=self.actor, campaign=object_for_bodiless_action(self)
        )
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        campaign = services.campaign_cancel(
            actor=self.actor, campaign=object_for_bodiless_action(self)
        )
        return Response(self.get_serializer(campaign).data)

    @extend_schema(
        responses=inline_serializer(
            "CampaignReview",
            {
                "previous": serializers.IntegerField(
                    allow_null=True, help_text="The previous campaign of the same kind."
                ),
                "rows": ReviewRowSerializer(many=True),
            },
        )
    )
    @action(detail=True, methods=["get"])
    def review(self, request, pk=None):
        """Units sold, revenue, buyers, conversion among the targeted members, time to sell out
        and cost, each beside the previous campaign of the same kind (and the change)."""
        review = campaign_review(self.get_object())
        rows = [
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
            for row in review["rows"]
        ]
        previous = review["previous"]
        return Response({"previous": previous.pk if previous else None, "rows": rows})

    @extend_schema(
        request=TeamMemberSerializer,
        responses={
            201: inline_serializer(
                "LotteryEntryOut",
                {"id": serializers.IntegerField(), "member": serializers.IntegerField()},
            )
        },
    )
    @action(detail=True, methods=["post"])
    def entries(self, request, pk=None):
        """Enter a member in a lottery (idempotent: entering twice is one entry)."""
        campaign = self.get_object()
        data = TeamMemberSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            entry = lottery.lottery_enter(
                actor=self.actor, campaign=campaign, **data.validated_data
            )
        except services.OrderRefused as exc:
            raise _refusal(exc) from None
        return Response({"id": entry.pk, "member": entry.member_id}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "LotteryDrawIn",
            {
                "public_value": serializers.CharField(
                    max_length=100,
                    help_text=(
                        "The value named by `lottery.public_source` when the lottery opened, as "
                        "published. Missing or blank, or before `lottery.public_value_at`: 409."
                    ),
                )
            },
        ),
        responses=inline_serializer("LotteryDrawOut", {"winners": WinnerSerializer(many=True)}),
    )
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        """Draw, with the public value the lottery named when it opened, once it is published
        (a bot may post it as soon as it reads the official result). The seed is revealed; see
        the public verification page."""
        campaign = self.get_object()
        public_value = (
            str((request.data or {}).get("public_value", ""))[:100]
            if isinstance(request.data, dict)
            else ""
        )
        rows = lottery.lottery_draw(actor=self.actor, campaign=campaign, public_value=public_value)
        return Response(
            {
                "winners": [
                    {"member": r.member_id, "prize": r.prize.name, "position": r.position}
                    for r in rows
                ]
            }
        )

    @extend_schema(request=TeamOrderSerializer, responses={201: TeamSerializer})
    @action(detail=True, methods=["post"])
    def teams(self, request, pk=None):
        """Open a group-buy team (the member pays the group price, less their discounts and
        the one `coupon` they may name, and leads the team)."""
        campaign = self.get_object()
        data = TeamOrderSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            values = dict(data.validated_data)
            coupon = values.pop("coupon", None)
            team = group_buys.team_open(
                actor=self.actor, campaign=campaign, coupon=coupon and coupon.pk, **values
            )
        except services.OrderRefused as exc:
            raise _refusal(exc) from None
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, 422: UNPROCESSABLE},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, location=OpenApiParameter.HEADER, required=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def orders(self, request, pk=None):
        campaign = self.get_object()
        data = OrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        coupon = values.pop("coupon", None)
        try:
            order, _created = services.flash_sale_order(
                actor=self.actor,
                campaign=campaign,
                idempotency_key=request.headers.get("Idempotency-Key", ""),
                coupon=coupon.pk if coupon is not None else None,
                **values,
            )
        except services.OrderRefused as exc:
            raise _refusal(exc) from None
        # A replay answers exactly as the first request was answered.
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class TeamViewSet(ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Group-buy teams. `join` adds a member (who pays the group price); a full team succeeds,
    a team still short at its deadline fails and is refunded. `already_in_team` and
    `team_closed` are 409."""

    summaries = {
        "join": "Join a group-buy team",
    }
    conflicts = ("join",)

    model = Team
    serializer_class = TeamSerializer
    capability = "campaign.view"
    capabilities = {"list": "campaign.view", "retrieve": "campaign.view", "join": "order.manage"}

    @extend_schema(request=TeamOrderSerializer, responses=TeamSerializer)
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """Join a team; the member's order may name one `coupon`, as when opening one."""
        team = self.get_object()
        data = TeamOrderSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            values = dict(data.validated_data)
            coupon = values.pop("coupon", None)
            team = group_buys.team_join(
                actor=self.actor, team=team, coupon=coupon and coupon.pk, **values
            )
        except services.OrderRefused as exc:
            raise _refusal(exc) from None
        return Response(TeamSerializer(team).data)


class OrdersExportView(TenantAPIView):
    """Every order of the organization as CSV (UTF-8 with BOM), newest first."""

    summaries = {
        "get": "Export orders as CSV",
    }

    capability = "metrics.export"

    @extend_schema(
        operation_id="orders_export_csv", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        response = StreamingHttpResponse(
            scoped_stream(
                self.organization, order_rows(self.organization, self.organization.tzinfo)
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="orders.csv"'
        return response


class OrderViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Every order: campaign orders and orders the bots reported. `pay`, `cancel`, `refund`."""

    summaries = {
        "pay": "Mark an order paid",
        "cancel": "Cancel an order",
        "refund": "Refund an order",
    }
    conflicts = ("pay", "cancel", "refund")

    model = Order
    serializer_class = OrderSerializer
    extra_query_params = ("campaign", "status")
    capability = "campaign.view"
    capabilities = {
        "list": "campaign.view",
        "retrieve": "campaign.view",
        "pay": "order.manage",
        "cancel": "order.manage",
        "refund": "order.manage",
    }

    def refine_queryset(self, queryset):
        params = self.request.query_params if self.action == "list" else {}
        if str(params.get("campaign", "")).isdigit():
            queryset = queryset.filter(campaign_id=int(params["campaign"][:18]))
        if params.get("status"):
            queryset = queryset.filter(status=params["status"][:20])
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, description="Orders of this campaign."),
            OpenApiParameter("status", str, enum=OrderStatus.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _change(self, service):
        order = object_for_bodiless_action(self)
        return Response(OrderSerializer(service(actor=self.actor, order=order)).data)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self._change(services.order_pay)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._change(services.order_cancel)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        return self._change(services.order_refund)
