"""`POST /api/v1/events/`: the bots' way in (see ingestion.pipeline)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from integrations.event_schema import EVENT_TYPES, MAX_BATCH
from tenancy.api_base import TenantAPIView

from .pipeline import ingest_events


class EventsView(TenantAPIView):
    """Post a batch of up to 1,000 events seen in the groups. Idempotent per event `id`:
    a resent event is counted as a duplicate and changes nothing. Invalid events are rejected one
    by one with their index and field errors; the valid ones in the batch are kept."""

    capability = "integration.ingest"

    @extend_schema(
        request=inline_serializer(
            "EventBatch",
            {"events": serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH)},
        ),
        responses=inline_serializer(
            "EventBatchResult",
            {
                "accepted": serializers.IntegerField(),
                "duplicates": serializers.IntegerField(),
                "rejected": serializers.ListField(child=serializers.DictField()),
            },
        ),
        examples=[
            OpenApiExample(
                "A join and a message",
                value={
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
                            "length": 12,
                            "has_link": False,
                            "text": "大家好，我是小王",
                        },
                    ]
                },
                request_only=True,
            )
        ],
        description="Event types: " + ", ".join(EVENT_TYPES),
    )
    def post(self, request):
        body = request.data
        events = body.get("events") if isinstance(body, dict) else body
        try:
            result = ingest_events(actor=self.actor, raw_events=events)
        except ValueError as exc:
            raise ValidationError({"events": [str(exc) or _("Send a list of events.")]}) from None
        return Response(result.as_dict(), status=200)
