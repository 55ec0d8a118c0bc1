"""Members, their identities and points."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from communities.models import RedemptionItem
from communities.services import MAX_TAGS
from core.api_fields import FlatListField, ListFiltersOnly, object_for_bodiless_action
from members import privacy, services
from members.filters import (
    IdentityFilter,
    MemberFilter,
)
from members.models import (
    Member,
    MemberIdentity,
    Membership,
    PointsEntry,
)
from members.selectors import visible_members
from tenancy.api_base import TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField
from tenancy.permissions import can

from .common import (
    EDIT,
    POINTS,
    PRIVACY,
    SEE,
    members_for_display,
)
from .export_schema import MemberExportSerializer


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberIdentity
        fields = ["id", "member", "platform", "external_user_id", "display_name", "first_seen_at"]
        read_only_fields = fields


class MemberGroupSerializer(serializers.ModelSerializer):
    """A membership as a member's detail shows it."""

    community_name = serializers.CharField(source="community.name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "community",
            "community_name",
            "status",
            "joined_at",
            "left_at",
            "last_active_at",
            "flags",
        ]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    """Only `tags` and `notes` are written (PATCH); the rest comes from the groups and services."""

    identities = IdentitySerializer(many=True, read_only=True)
    memberships = MemberGroupSerializer(
        many=True,
        read_only=True,
        source="visible_memberships",
        help_text="The memberships in groups the key may see.",
    )
    tier_name = serializers.CharField(source="tier.name", read_only=True, allow_null=True)
    is_blocked = serializers.BooleanField(read_only=True, help_text="On the block list now.")
    tags = FlatListField(
        child=serializers.CharField(max_length=30), max_length=MAX_TAGS, required=False
    )
    notes = serializers.CharField(
        max_length=5000, allow_blank=True, required=False, trim_whitespace=False
    )
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)

    class Meta:
        model = Member
        fields = [
            "id",
            "display_name",
            "name_card",
            "phone",
            "identities",
            "memberships",
            "tier",
            "tier_name",
            "tier_since",
            "points_balance",
            "tags",
            "notes",
            "is_blocked",
            "first_seen_at",
            "erased_at",
        ]
        read_only_fields = [
            "display_name",
            "name_card",
            "tier",
            "tier_since",
            "points_balance",
            "first_seen_at",
            "erased_at",
        ]


class PointsEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = ["id", "delta", "reason", "detail", "day", "created_at", "actor_label"]
        read_only_fields = fields


class PointsAdjustSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Points to add (negative: take)."
    )
    reason = serializers.CharField(max_length=300)


class PointsRedeemSerializer(serializers.Serializer):
    item = OrgPrimaryKeyRelatedField(model=RedemptionItem, help_text="A redemption item id.")


PointsResult = inline_serializer(
    "PointsResult",
    {"entry": PointsEntrySerializer(), "points_balance": serializers.IntegerField()},
)


class EraseSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="Must be true: the member asked for erasure.")

    def validate_confirm(self, value):
        if not value:
            raise serializers.ValidationError(_("Confirm the erasure."))
        return value


class IdentityLinkSerializer(serializers.Serializer):
    identity = OrgPrimaryKeyRelatedField(
        model=MemberIdentity, help_text="The identity to move to this member."
    )


class MemberViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """People, with their platform identities and memberships. Never deleted: no DELETE."""

    summaries = {
        "erase": "Erase a member's personal data",
        "data_export": "Export everything stored about a member",
        "link": "Link an identity to this member",
        "points": "List a member's points ledger",
        "points_adjust": "Adjust a member's points",
        "points_redeem": "Redeem points for a reward",
    }
    conflicts = ("erase", "link", "points_adjust", "points_redeem")

    model = Member
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    # The fallback for actions not named below.
    capability = SEE
    capabilities = {
        "list": SEE,
        "retrieve": SEE,
        "partial_update": EDIT,
        "points": SEE,
        "points_adjust": POINTS,
        "points_redeem": POINTS,
        "link": EDIT,
        "data_export": PRIVACY,
        "erase": PRIVACY,
    }

    def refine_queryset(self, queryset):
        queryset = queryset & visible_members(self.actor)
        if self.action in ("points", "points_adjust", "points_redeem", "data_export", "erase"):
            return queryset
        return members_for_display(self.actor, queryset)

    def partial_update(self, request, pk=None):
        member = self.get_object()
        serializer = self.get_serializer(member, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:  # nothing to change: no write, no audit entry
            services.member_update(actor=self.actor, member=member, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses=PointsEntrySerializer(many=True))
    @action(
        detail=True, methods=["get"], filter_backends=[], serializer_class=PointsEntrySerializer
    )
    def points(self, request, pk=None):
        """The member's points ledger, newest first."""
        member = self.get_object()
        entries = PointsEntry.objects.for_org(self.organization).filter(member=member)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(PointsEntrySerializer(page, many=True).data)

    @extend_schema(
        request=PointsAdjustSerializer,
        responses={201: PointsResult},
        description="Add or take points by hand, with a reason; the balance never goes below 0.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="points/adjust",
        url_name="points-adjust",
        serializer_class=PointsAdjustSerializer,
    )
    def points_adjust(self, request, pk=None):
        member = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.points_adjust(actor=self.actor, member=member, **serializer.validated_data)
        return self._points_result(entry, member)

    @extend_schema(
        request=PointsRedeemSerializer,
        responses={201: PointsResult},
        description="Exchange points for a redemption item (400 when the balance or the stock "
        "is short).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="points/redeem",
        url_name="points-redeem",
        serializer_class=PointsRedeemSerializer,
    )
    def points_redeem(self, request, pk=None):
        member = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.points_redeem(actor=self.actor, member=member, **serializer.validated_data)
        return self._points_result(entry, member)

    def _points_result(self, entry, member):
        balance = (
            Member.objects.for_org(self.organization)
            .values_list("points_balance", flat=True)
            .get(pk=member.pk)
        )
        return Response(
            {"entry": PointsEntrySerializer(entry).data, "points_balance": balance},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=IdentityLinkSerializer,
        responses=MemberSerializer,
        description="Move an identity (with its memberships) to this member: the same person "
        "on another platform. Undo with POST /identities/{id}/unlink/.",
    )
    @action(detail=True, methods=["post"], serializer_class=IdentityLinkSerializer)
    def link(self, request, pk=None):
        member = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.identity_link(
            actor=self.actor, identity=serializer.validated_data["identity"], to_member=member
        )
        return Response(
            MemberSerializer(self.get_object(), context=self.get_serializer_context()).data
        )

    @extend_schema(
        responses=MemberExportSerializer,
        description="Everything stored about the member (a data access request): member, "
        "identities, memberships with their history, warnings, blocks, points ledger, orders, "
        "check-ins, invites and raw events. Owner and manager keys only.",
    )
    @action(detail=True, methods=["get"], url_path="export", filter_backends=[])
    def data_export(self, request, pk=None):
        return Response(privacy.member_export(actor=self.actor, member=self.get_object()))

    @extend_schema(
        request=EraseSerializer,
        responses=MemberSerializer,
        description="Erase the member's personal data on request: name, name card, phone, "
        "notes, tags and personal fields of stored events become a placeholder; rows, counts "
        'and orders stay. Send `{"confirm": true}`. Owner and manager keys only.',
    )
    @action(detail=True, methods=["post"], serializer_class=EraseSerializer)
    def erase(self, request, pk=None):
        member = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        privacy.member_erase(actor=self.actor, member=member)
        queryset = members_for_display(self.actor, Member.objects.for_org(self.organization))
        return Response(
            MemberSerializer(queryset.get(pk=member.pk), context=self.get_serializer_context()).data
        )


class IdentityViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Members as a chat platform knows them (`?platform=wechat&external_user_id=wxid_abc`)."""

    summaries = {
        "unlink": "Unlink an identity into a member of its own",
    }
    conflicts = ("unlink",)

    model = MemberIdentity
    serializer_class = IdentitySerializer
    filterset_class = IdentityFilter
    # The fallback for actions not named below.
    capability = SEE
    capabilities = {"list": SEE, "retrieve": SEE, "unlink": EDIT}

    def refine_queryset(self, queryset):
        if can(self.actor, "member.view"):
            return queryset
        return queryset.filter(member__in=visible_members(self.actor))

    @extend_schema(
        request=None,
        responses=MemberSerializer,
        description="Give the identity its own member again (history kept); answers with "
        "that new member.",
    )
    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        member = services.identity_unlink(
            actor=self.actor, identity=object_for_bodiless_action(self)
        )
        member = members_for_display(self.actor, visible_members(self.actor)).get(pk=member.pk)
        return Response(MemberSerializer(member, context=self.get_serializer_context()).data)
