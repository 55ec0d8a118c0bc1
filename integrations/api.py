"""Actions out: the outbox with pull mode (lease and
acknowledge), webhook endpoints and their delivery log."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api_fields import ListFiltersOnly, object_for_bodiless_action
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

    model = Action
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    capability = ACTIONS

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="`pending` leases what it returns."),
            OpenApiParameter("limit", int, description="Pull mode: how many to lease (≤ 100)."),
        ]
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("status") != ActionStatus.PENDING:
            return super().list(request, *args, **kwargs)
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
                "results": ActionSerializer(leased, many=True).data,
                "lease_seconds": int(delivery.LEASE.total_seconds()),
            }
        )

    @extend_schema(request=AckSerializer, responses=ActionSerializer)
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

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    capability = WEBHOOKS

    @extend_schema(
        responses={
            201: inline_serializer(
                "WebhookEndpointCreated",
                {"endpoint": WebhookEndpointSerializer(), "secret": serializers.CharField()},
            )
        }
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = delivery.endpoint_create(actor=self.actor, **serializer.validated_data)
        return Response(
            {"endpoint": self.get_serializer(endpoint).data, "secret": secret},
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
