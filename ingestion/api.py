"""`POST /api/v1/events/`: the bots' way in (see ingestion.pipeline)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core import counters
from integrations.event_schema import MAX_BATCH
from integrations.openapi import EventListField
from tenancy.api_base import TenantAPIView
from tenancy.services import api_key_seen

from .pipeline import ingest_events


class EventBatchSerializer(serializers.Serializer):
    """For the OpenAPI document only: the view validates the events with msgspec, each on its
    own (`integrations.event_schema`)."""

    events = EventListField(max_length=MAX_BATCH, help_text="At most 1,000 events.")


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the batch (from 0).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; `non_field_errors` for the event as a whole.",
    )


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="New events, stored and applied.")
    duplicates = serializers.IntegerField(
        help_text="Events whose `id` was seen before (also twice in this batch): not applied again."
    )
    rejected = RejectedEventSerializer(many=True, help_text="Invalid events, one by one.")


BATCH_EXAMPLE = {
    "events": [
        {
            "id": "evt-0001",
            "type": "member.joined",
            "occurred_at": "2026-11-21T20:00:00+08:00",
            "platform": "wechat",
            "community": "wx-group-001",
            "user": "wxid_abc",
            "display_name": "小王",
            "name_card": "西安-小王-白藜芦醇",
        },
        {
            "id": "evt-0002",
            "type": "message.posted",
            "occurred_at": "2026-11-21T20:01:00+08:00",
            "community": "wx-group-001",
            "user": "wxid_abc",
            "kind": "text",
            "length": 8,
            "has_link": False,
            "text": "大家好，我是小王",
        },
        {
            "id": "evt-0003",
            "type": "order.placed",
            "occurred_at": "2026-11-21T20:05:00+08:00",
            "community": "wx-group-001",
            "user": "wxid_abc",
            "order_id": "SO-20261121-0042",
            "amount": "59.90",
            "items": [{"name": "白藜芦醇", "sku": "RSV-60", "quantity": 1, "price": "59.90"}],
        },
    ]
}


class EventsView(TenantAPIView):
    """Post a batch of up to 1,000 events seen in the groups. Idempotent per event `id`:
    a resent event is counted as a duplicate and changes nothing. Invalid events are rejected one
    by one with their index and field errors; the valid ones in the batch are kept."""

    capability = "integration.ingest"

    @extend_schema(
        summary="Post a batch of events",
        request=EventBatchSerializer,
        responses={200: EventBatchResultSerializer},
        examples=[
            OpenApiExample(
                "A join, a message and an order", value=BATCH_EXAMPLE, request_only=True
            ),
            OpenApiExample(
                "Two new, one resent, one rejected",
                value={
                    "accepted": 2,
                    "duplicates": 1,
                    "rejected": [
                        {"index": 3, "errors": {"occurred_at": ["This field is required."]}}
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        body = request.data
        events = body.get("events") if isinstance(body, dict) else body
        try:
            result = ingest_events(actor=self.actor, raw_events=events)
        except ValueError as exc:
            raise ValidationError({"events": [str(exc) or _("Send a list of events.")]}) from None
        if result.accepted or result.duplicates:
            api_key_seen(self.actor.api_key, "event")
        counters.incr("events", result.accepted, result="accepted")
        counters.incr("events", result.duplicates, result="duplicate")
        counters.incr("events", len(result.rejected), result="rejected")
        return Response(result.as_dict(), status=200)
