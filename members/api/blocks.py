"""The block list."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api_fields import ListFiltersOnly, object_for_bodiless_action
from members import services
from members.filters import (
    BlockFilter,
)
from members.models import (
    Block,
)
from members.selectors import visible_members
from tenancy.api_base import TenantViewSet
from tenancy.permissions import can

from .common import (
    REMOVE,
    SEE,
)


class BlockSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.display_name", read_only=True)

    class Meta:
        model = Block
        fields = ["id", "member", "member_name", "reason", "created_at", "lifted_at", "actor_label"]
        read_only_fields = fields


class BlockViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The organization's block list: active blocks unless `?include_lifted=1`. Lifted
    (`POST …/lift/`), never deleted."""

    summaries = {
        "lift": "Lift a block",
    }
    conflicts = ("lift",)

    model = Block
    serializer_class = BlockSerializer
    filterset_class = BlockFilter
    # The fallback for actions not named below.
    capability = SEE
    capabilities = {"list": SEE, "retrieve": SEE, "lift": REMOVE}

    def refine_queryset(self, queryset):
        if not can(self.actor, "member.view"):
            queryset = queryset.filter(member__in=visible_members(self.actor))
        return queryset.select_related("member")

    @extend_schema(request=None, responses=BlockSerializer)
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        block = services.block_lift(actor=self.actor, block=object_for_bodiless_action(self))
        return Response(self.get_serializer(block).data)
