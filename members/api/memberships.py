"""Memberships in groups, their status history and warnings."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api_fields import ListFiltersOnly, object_for_bodiless_action
from members import services
from members.filters import (
    MembershipFilter,
    WarningFilter,
    only_visible,
)
from members.models import (
    ChurnReason,
    Membership,
    MembershipChange,
    Warning,
)
from members.selectors import visible_memberships
from tenancy.api_base import TenantViewSet
from tenancy.permissions import require

from .common import (
    CHANGES_SHOWN,
    EDIT,
    REMOVE,
    SEE,
    WARN,
)


class MembershipSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    member_name = serializers.CharField(source="member.display_name", read_only=True)
    platform = serializers.CharField(source="identity.platform", read_only=True)
    external_user_id = serializers.CharField(source="identity.external_user_id", read_only=True)
    # Declared: a read-only model field loses allow_blank, and the schema would then say "" is
    # not a valid reason (found by the API fuzzing in tests/fuzz).
    churn_reason = serializers.ChoiceField(
        choices=ChurnReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "community",
            "community_name",
            "member",
            "member_name",
            "identity",
            "platform",
            "external_user_id",
            "status",
            "joined_at",
            "left_at",
            "churn_reason",
            "last_active_at",
            "message_count",
            "welcomed_at",
            "introduced_at",
            "name_card_ok",
            "coupon_issued_at",
            "dormant_since",
            "reminders_sent",
            "last_reminded_at",
            "reactivated_at",
            "flags",
        ]
        read_only_fields = fields


class MembershipChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MembershipChange
        fields = ["from_status", "to_status", "reason", "actor_label", "created_at"]
        read_only_fields = fields


class WarningSerializer(serializers.ModelSerializer):
    community = serializers.IntegerField(source="membership.community_id", read_only=True)
    member = serializers.IntegerField(source="membership.member_id", read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Warning
        fields = [
            "id",
            "membership",
            "community",
            "member",
            "reason",
            "detail",
            "created_at",
            "expires_at",
            "revoked_at",
            "is_active",
            "actor_label",
        ]
        read_only_fields = fields

    def get_is_active(self, obj) -> bool:
        return obj.revoked_at is None and obj.expires_at > timezone.now()


class MembershipDetailSerializer(MembershipSerializer):
    changes = serializers.SerializerMethodField(
        help_text=f"Status history, newest first (the latest {CHANGES_SHOWN})."
    )
    active_warnings = serializers.SerializerMethodField()

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "changes", "active_warnings"]
        read_only_fields = fields

    @extend_schema_field(MembershipChangeSerializer(many=True))
    def get_changes(self, obj):
        rows = (
            MembershipChange.objects.for_org(obj.organization_id)
            .filter(membership=obj)
            .order_by("-created_at", "-pk")[:CHANGES_SHOWN]
        )
        return MembershipChangeSerializer(rows, many=True).data

    @extend_schema_field(WarningSerializer(many=True))
    def get_active_warnings(self, obj):
        rows = list(
            Warning.objects.for_org(obj.organization_id)
            .filter(membership=obj, revoked_at=None, expires_at__gt=timezone.now())
            .order_by("-pk")
        )
        for row in rows:
            row.membership = obj  # no query per warning
        return WarningSerializer(rows, many=True).data


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RemoveSerializer(ReasonSerializer):
    block = serializers.BooleanField(
        default=False, help_text="Also put the member on the organization's block list (ads)."
    )


class ReinstateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OnboardingSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        choices=[("introduced", "introduced themself"), ("coupon", "new-member coupon issued")]
    )


class MembershipViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """A member in one group, with the status history. Removed, never deleted: `…/remove/`,
    `…/reinstate/`."""

    summaries = {
        "warn": "Warn a member",
        "remove": "Remove a member from a group",
        "reinstate": "Reinstate a removed member",
        "onboarding": "Tick an onboarding step",
    }
    conflicts = ("warn", "remove", "reinstate")

    model = Membership
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    # The gate for every action; the per-group capability is checked once the object is found.
    capability = SEE
    community_capabilities = {
        "warn": WARN,
        "remove": REMOVE,
        "reinstate": REMOVE,
        "onboarding": EDIT,
    }
    serializer_classes = {
        "retrieve": MembershipDetailSerializer,
        "warn": ReasonSerializer,
        "remove": RemoveSerializer,
        "reinstate": ReinstateSerializer,
        "onboarding": OnboardingSerializer,
    }

    def refine_queryset(self, queryset):
        return (queryset & visible_memberships(self.actor)).select_related(
            "community", "member", "identity"
        )

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, self.serializer_class)

    def _act(self, service):
        membership = self.get_object()
        require(self.actor, self.community_capabilities[self.action], membership.community)
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        service(actor=self.actor, membership=membership, **serializer.validated_data)
        return Response(
            MembershipDetailSerializer(
                self.get_object(), context=self.get_serializer_context()
            ).data
        )

    @extend_schema(
        request=ReasonSerializer,
        responses=MembershipDetailSerializer,
        description="Warn by hand (needs member.warn in the group). At the group's threshold "
        "this removes the member, as an automatic breach would.",
    )
    @action(detail=True, methods=["post"])
    def warn(self, request, pk=None):
        return self._act(services.member_warn)

    @extend_schema(
        request=RemoveSerializer,
        responses=MembershipDetailSerializer,
        description="Remove from the group (needs member.remove in the group); `block` also "
        "puts the member on the block list.",
    )
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._act(services.member_remove)

    @extend_schema(
        request=ReinstateSerializer,
        responses=MembershipDetailSerializer,
        description="Undo a removal (needs member.remove in the group); the bot is asked to "
        "invite the member back.",
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._act(services.member_reinstate)

    @extend_schema(
        request=OnboardingSerializer,
        responses=MembershipDetailSerializer,
        description="Tick an onboarding step by hand (needs member.edit in the group).",
    )
    @action(detail=True, methods=["post"])
    def onboarding(self, request, pk=None):
        return self._act(services.onboarding_mark)


class WarningViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Warnings, revoked (`POST …/revoke/`), never deleted."""

    summaries = {
        "revoke": "Revoke a warning",
    }
    conflicts = ("revoke",)

    model = Warning
    serializer_class = WarningSerializer
    filterset_class = WarningFilter
    # The gate for every action; the per-group capability is checked once the object is found.
    capability = SEE
    community_capabilities = {"revoke": WARN}

    def refine_queryset(self, queryset):
        return only_visible(queryset, self.actor, "membership__community").select_related(
            "membership__community"
        )

    @extend_schema(request=None, responses=WarningSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        warning = object_for_bodiless_action(self)
        require(self.actor, self.community_capabilities["revoke"], warning.membership.community)
        warning = services.warning_revoke(actor=self.actor, warning=warning)
        return Response(self.get_serializer(warning).data)
