"""Actions out: the outbox with pull mode (lease and
acknowledge), webhook endpoints and their delivery log."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api_fields import ListFiltersOnly, object_for_bodiless_action
from core.api_filters import check_query_params
from tenancy.api_base import TenantViewSet

from . import delivery
from .filters import ActionFilter, DeliveryFilter
from .models import Action, ActionKind, ActionStatus, WebhookDelivery, WebhookEndpoint

ACTIONS = "integration.actions"
WEBHOOKS = "webhook.manage"


class ActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = [
            "id",
            "kind",
            "status",
            "community",
            "member",
            "payload",
            "attempts",
            "lease_until",
            "outcome",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(many=False)  # already a page: not to be wrapped in another
class ActionPageSerializer(serializers.Serializer):
    """A page of the outbox. Pull mode (`?status=pending`) leases what it returns and says for
    how long in `lease_seconds`; `next` and `previous` are null there."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ActionSerializer(many=True)
    lease_seconds = serializers.IntegerField(
        required=False, help_text="Pull mode only: acknowledge within this many seconds."
    )


ACTION_EXAMPLE = {
    "id": 4217,
    "kind": "member.welcome",
    "status": "leased",
    "community": 12,
    "member": 3051,
    "payload": {
        "community_external_id": "wx-group-001",
        "platform": "wechat",
        "user_external_id": "wxid_abc",
        "display_name": "小王",
        "text": "欢迎小王加入健康生活群！请先阅读群规。",
        "rules_text": "群规：1. 不发广告 2. 友善交流",
    },
    "attempts": 1,
    "lease_until": "2026-11-21T12:05:00Z",
    "outcome": "",
    "created_at": "2026-11-21T12:00:00Z",
    "updated_at": "2026-11-21T12:00:00Z",
    "finished_at": None,
}


class AckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[ActionStatus.DONE, ActionStatus.FAILED])
    detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ActionViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The outbox: what the bots are asked to do.

    Pull mode: `GET /actions/?status=pending` hands the caller up to `limit` (default 50, at most
    100) pending actions and leases them for ACTION_LEASE_SECONDS (default 300); acknowledge each
    with `POST /actions/{id}/ack` `{"status": "done"|"failed", "detail": "…"}`. An action not
    acknowledged in time returns to pending. Two bots polling at once get different actions.
    `kind` (repeatable) and `community` narrow what is leased, e.g. one bot per group.
    Any other filter lists the outbox with cursor pagination, without leasing."""

    summaries = {
        "list": "List or lease actions",
        "retrieve": "Get an action",
        "ack": "Acknowledge an action",
    }
    conflicts = ("ack",)

    model = Action
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    extra_query_params = ("limit",)
    capability = ACTIONS

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=ActionStatus.values,
                description="`pending` leases what it returns (pull mode): up to `limit` "
                "actions, each handed to no one else until `lease_seconds` have passed.",
            ),
            OpenApiParameter(
                "limit",
                int,
                description="Pull mode: how many to lease, 1 to 100 (default 50).",
            ),
            OpenApiParameter(
                "kind",
                str,
                enum=ActionKind.values,
                many=True,
                explode=True,
                description="Only these kinds (repeat the parameter for several).",
            ),
        ],
        responses={200: ActionPageSerializer},
        examples=[
            OpenApiExample(
                "Leased: a welcome",
                value={
                    "next": None,
                    "previous": None,
                    "lease_seconds": 300,
                    "results": [ACTION_EXAMPLE],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("status") != ActionStatus.PENDING:
            return super().list(request, *args, **kwargs)
        check_query_params(request, self, self.filterset_class)
        limit = request.query_params.get("limit", "50")
        if not limit.isdigit() or not 1 <= int(limit) <= delivery.MAX_LEASE_BATCH:
            raise ValidationError({"limit": [_("Give a number from 1 to 100.")]})
        kinds = [k for k in request.query_params.getlist("kind") if k in ActionKind.values]
        community = request.query_params.get("community", "")
        if community and not (community.isdigit() and len(community) < 19):
            raise ValidationError({"community": [_("Give a group id.")]})
        leased = delivery.lease_pending(
            actor=self.actor,
            limit=int(limit),
            kinds=kinds,
            community_id=int(community) if community else None,
        )
        return Response(
            {
                "next": None,
                "previous": None,
                "results": ActionSerializer(leased, many=True).data,
                "lease_seconds": int(delivery.LEASE.total_seconds()),
            }
        )

    @extend_schema(
        request=AckSerializer,
        responses=ActionSerializer,
        examples=[
            OpenApiExample("Done", value={"status": "done", "detail": "posted"}, request_only=True),
            OpenApiExample(
                "Failed",
                value={"status": "failed", "detail": "the bot is not in this group"},
                request_only=True,
            ),
            OpenApiExample(
                "Acknowledged",
                value={**ACTION_EXAMPLE, "status": "done", "outcome": "posted"},
                response_only=True,
                status_codes=["200"],
            ),
        ],
        description="Say how it went: `done`, or `failed` with a `detail`. Repeating the same "
        "answer changes nothing; another answer for a finished action is a 409.",
    )
    @action(detail=True, methods=["post"])
    def ack(self, request, pk=None):
        target = self.get_object()
        serializer = AckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = delivery.acknowledge(actor=self.actor, action=target, **serializer.validated_data)
        return Response(ActionSerializer(done).data)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ActionKind.choices), required=False, max_length=20
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "kinds", "is_active", "secret_hint", "created_at"]
        read_only_fields = ["id", "is_active", "secret_hint", "created_at"]


class WebhookEndpointViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Webhook endpoints. Creating one returns its signing `secret`, once."""

    summaries = {
        "create": "Add a webhook endpoint",
        "disable": "Pause a webhook endpoint",
        "enable": "Resume a webhook endpoint",
    }

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    capability = WEBHOOKS

    @extend_schema(
        responses={
            201: inline_serializer(
                "WebhookEndpointCreated",
                {
                    "endpoint": WebhookEndpointSerializer(),
                    "secret": serializers.CharField(
                        help_text="Shown once. The HMAC key is this string's UTF-8 bytes."
                    ),
                    "standard_webhooks_secret": serializers.CharField(
                        help_text="The same secret for Standard Webhooks libraries (whsec_…)."
                    ),
                },
            )
        }
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = delivery.endpoint_create(actor=self.actor, **serializer.validated_data)
        return Response(
            {
                "endpoint": self.get_serializer(endpoint).data,
                "secret": secret,
                "standard_webhooks_secret": delivery.standard_webhooks_secret(secret),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=WebhookEndpointSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        endpoint = object_for_bodiless_action(self)
        return Response(
            self.get_serializer(
                delivery.endpoint_set_active(actor=self.actor, endpoint=endpoint, active=False)
            ).data
        )

    @extend_schema(request=None, responses=WebhookEndpointSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        endpoint = object_for_bodiless_action(self)
        return Response(
            self.get_serializer(
                delivery.endpoint_set_active(actor=self.actor, endpoint=endpoint, active=True)
            ).data
        )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "action",
            "endpoint",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookDeliveryViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The delivery log: every action sent to every endpoint, with the last response."""

    summaries = {
        "retry": "Retry a delivery now",
    }
    conflicts = ("retry",)

    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilter
    capability = WEBHOOKS

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        target = object_for_bodiless_action(self)
        return Response(
            self.get_serializer(delivery.delivery_retry(actor=self.actor, delivery=target)).data
        )
