"""REST API of members: people and their identities, memberships in groups, warnings, the block
list, points, the outbox of actions for the bots, and the CSV export and import.

Every write goes through `members.services` (or `members.csv_io` for imports), whose
ValidationError / PermissionDenied the API error handler turns into 400 / 403. Related ids are
looked up in the request's organization only, so another organization's id reads as "does not
exist"; no serializer takes an organization from input.

What a key sees: a member is visible when they have a membership in a group of
`visible_communities(actor)`; org-wide viewers (`member.view`: owner, manager, analyst) see every
member, also those who are in no group yet (e.g. imported ones). A staff-role key has no person
and so no groups behind it: empty lists and 404s, as the design asks. Memberships and warnings are
visible with their group, blocks and identities with their member.

Warn, remove, reinstate, revoke and the onboarding checklist are per-group capabilities (a deputy
holds them in their groups only): the gate is `org.view` and the action checks
`require(actor, community_capabilities[action], membership.community)` once it has found the
object, so an object the actor may not see is a 404 and one they may see but not change is a 403.

Lists use cursor pagination (newest first, by id); there is no `?ordering=` (see filters.py).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from communities.models import RedemptionItem
from communities.services import MAX_TAGS
from core.api_fields import FlatListField, ListFiltersOnly, object_for_bodiless_action
from tenancy.api_base import TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField
from tenancy.permissions import can, require

from . import privacy, services
from .filters import (
    BlockFilter,
    IdentityFilter,
    MemberFilter,
    MembershipFilter,
    WarningFilter,
    only_visible,
)
from .models import (
    Block,
    ChurnReason,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    PointsEntry,
    Warning,
)
from .selectors import visible_members, visible_memberships

# Capabilities. SEE gates reading (what a key then sees is decided by the queryset) and the
# per-group actions, which check their own capability in the object's group.
SEE = "org.view"
EDIT = "member.edit"
WARN = "member.warn"
REMOVE = "member.remove"
POINTS = "member.points.adjust"
EXPORT = "metrics.export"
PRIVACY = privacy.CAPABILITY
ACTIONS = "integration.actions"
CHANGES_SHOWN = 100  # a membership's status history in its detail: the latest 100


def members_for_display(actor, queryset):
    """Members with what their serializer shows, in a constant number of queries: tier, block
    flag, identities and the memberships the actor may see (with their groups)."""
    org = actor.organization
    return (
        queryset.select_related("tier")
        .annotate(
            is_blocked=Exists(
                Block.objects.for_org(org).filter(member=OuterRef("pk"), lifted_at=None)
            )
        )
        .prefetch_related(
            Prefetch("identities", queryset=MemberIdentity.objects.for_org(org).order_by("pk")),
            Prefetch(
                "memberships",
                queryset=visible_memberships(actor).select_related("community").order_by("pk"),
                to_attr="visible_memberships",
            ),
        )
    )


# --- Serializers ---------------------------------------------------------------------------


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


class BlockSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.display_name", read_only=True)

    class Meta:
        model = Block
        fields = ["id", "member", "member_name", "reason", "created_at", "lifted_at", "actor_label"]
        read_only_fields = fields


class MemberViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """People, with their platform identities and memberships. Never deleted: no DELETE."""

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
        responses=OpenApiTypes.OBJECT,
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


class MembershipViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """A member in one group, with the status history. Removed, never deleted: `…/remove/`,
    `…/reinstate/`."""

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


class BlockViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """The organization's block list: active blocks unless `?include_lifted=1`. Lifted
    (`POST …/lift/`), never deleted."""

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
