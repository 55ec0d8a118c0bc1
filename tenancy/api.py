from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from .api_base import TenantAPIView, TenantReadOnlyViewSet
from .filters import AuditLogFilter
from .models import AuditLogEntry
from .permissions import capabilities_of


class MeView(TenantAPIView):
    """Which organization and role the presented API key has."""

    summaries = {
        "get": "Get the key's organization and role",
    }

    capability = "org.view"

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "organization": inline_serializer(
                    "MeOrganization",
                    {
                        "slug": serializers.CharField(),
                        "name": serializers.CharField(),
                        "time_zone": serializers.CharField(),
                        "default_language": serializers.CharField(),
                    },
                ),
                "role": serializers.CharField(),
                "api_key": inline_serializer(
                    "MeApiKey", {"name": serializers.CharField(), "prefix": serializers.CharField()}
                ),
                "capabilities": serializers.ListField(child=serializers.CharField()),
            },
        ),
        examples=[
            OpenApiExample(
                "A bot's key",
                value={
                    "organization": {
                        "slug": "acme",
                        "name": "Acme 社群",
                        "time_zone": "Asia/Shanghai",
                        "default_language": "zh-hans",
                    },
                    "role": "manager",
                    "api_key": {"name": "chat-bot", "prefix": "qy_1a2b3c4d"},
                    "capabilities": ["integration.actions", "integration.ingest", "org.view"],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        org, key = self.organization, self.actor.api_key
        return Response(
            {
                "organization": {
                    "slug": org.slug,
                    "name": org.name,
                    "time_zone": org.time_zone,
                    "default_language": org.default_language,
                },
                "role": self.actor.role,
                "api_key": {"name": key.name, "prefix": key.prefix},
                "capabilities": capabilities_of(self.actor),
            }
        )


class AuditLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLogEntry
        fields = [
            "id",
            "created_at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "summary",
            "changes",
        ]


class AuditLogViewSet(TenantReadOnlyViewSet):
    """The organization's audit log, newest first."""

    model = AuditLogEntry
    serializer_class = AuditLogEntrySerializer
    capability = "audit.view"
    filterset_class = AuditLogFilter
