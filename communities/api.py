"""REST API of communities: groups and their intro and rules, staff assignments, VIP tiers,
points rules and the redemption catalogue.

Serializers check types and shapes; every write goes through `communities.services`, whose
ValidationError / PermissionDenied the API error handler turns into 400 / 403. Related ids are
looked up in the request's organization only, so another organization's id reads as "does not
exist"; no serializer takes an organization from input.

Which groups a key sees: list, retrieve and reading the rules are open to every key of the
organization (`org.view`), and the queryset holds only `visible_communities(actor)`: every group
for org-wide viewers (owner, manager, analyst), the assigned groups for staff. A staff-role key has
no person behind it, so it sees an empty list and 404s, rather than 403s, as the design asks.

Lists use cursor pagination (newest first, by id); there is no `?ordering=` (see filters.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api_fields import FlatListField, ListFiltersOnly, object_for_bodiless_action
from tenancy.api_base import ServiceSaveMixin, TenantAPIView, TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField
from tenancy.models import OrgMembership, User
from tenancy.permissions import require
from tenancy.roles import CommunityRole

from . import services
from .filters import CommunityFilter, RedemptionItemFilter, StaffAssignmentFilter, VipTierFilter
from .models import (
    Community,
    CommunityRules,
    PointsRules,
    RedemptionItem,
    StaffAssignment,
    VipTier,
)
from .rule_templates import TEMPLATES
from .rules import RULE_KINDS, clean_rules, render_text
from .selectors import visible_communities

# Capabilities. SEE gates the group endpoints; what a key then sees is `visible_communities`.
SEE = "org.view"
VIEW = "community.view"
MANAGE = "community.manage"
STAFF_MANAGE = "community.staff.manage"
MAX_COPY_TARGETS = 500
MAX_ID = 2**63 - 1  # BigAutoField


# --- Fields --------------------------------------------------------------------------------


def _active_members(organization):
    return User.objects.filter(
        pk__in=OrgMembership.objects.for_org(organization).filter(is_active=True).values("user_id")
    )


def _active_tiers(organization):
    return VipTier.objects.for_org(organization).filter(is_active=True)


class RuleSerializer(serializers.Serializer):
    """One rule (for the schema); `communities.rules.clean_rule` validates the params per kind."""

    kind = serializers.ChoiceField(choices=[(kind, label) for kind, label in RULE_KINDS.items()])
    params = serializers.DictField(
        required=False,
        help_text=(
            "no_ads: {allowed_domains: [..], keywords: [..]}; no_flood: {max_consecutive, "
            "window_seconds}; name_card: {format: '{city}-{name}-{product}'}; custom: {text}; "
            "no_personal_attacks: {}."
        ),
    )


@extend_schema_field(RuleSerializer(many=True))
class RuleListField(serializers.JSONField):
    """The rule set, validated and normalised by `communities.rules.clean_rules`."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        try:
            cleaned = clean_rules(data)
        except DjangoValidationError as exc:
            messages = exc.message_dict.get("rules") if hasattr(exc, "error_dict") else None
            raise serializers.ValidationError(messages or exc.messages) from None
        return cleaned


# --- Serializers ---------------------------------------------------------------------------


class CommunitySerializer(serializers.ModelSerializer):
    parent = OrgPrimaryKeyRelatedField(model=Community, allow_null=True, required=False)
    required_tier = OrgPrimaryKeyRelatedField(
        model=VipTier, scope=_active_tiers, allow_null=True, required=False
    )
    tags = FlatListField(
        child=serializers.CharField(max_length=30), max_length=services.MAX_TAGS, required=False
    )

    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "kind",
            "platform",
            "external_id",
            "capacity",
            "region",
            "category",
            "parent",
            "tags",
            "required_tier",
            "join_url",
            "status",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "archived_at", "created_at", "updated_at"]
        validators = []  # uniqueness is per organization: the services check it


RulesText = inline_serializer(
    "CommunityRulesText",
    {"zh-hans": serializers.CharField(), "en": serializers.CharField()},
)


class CommunityRulesSerializer(serializers.ModelSerializer):
    """Fields left out keep their value. `text` is what a bot posts, in both languages."""

    rules = RuleListField(required=False)
    text = serializers.SerializerMethodField()

    class Meta:
        model = CommunityRules
        fields = [
            "intro_who",
            "intro_why",
            "intro_runs",
            "welcome_message",
            "rules",
            "warnings_before_removal",
            "warning_expiry_days",
            "announce_removal",
            "ask_leavers_why",
            "mute_before_removal",
            "below_tier_action",
            "group_limit_action",
            "auto_replies",
            "source_template",
            "updated_at",
            "text",
        ]
        read_only_fields = ["source_template", "updated_at"]
        validators = []

    @extend_schema_field(RulesText)
    def get_text(self, obj) -> dict:
        return {"zh-hans": render_text(obj, "zh-hans"), "en": render_text(obj, "en")}


class RulesCopySerializer(serializers.Serializer):
    targets = FlatListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=MAX_COPY_TARGETS,
        help_text="Ids of the groups that get this group's intro, rules and enforcement.",
    )

    def validate_targets(self, ids):
        ids = list(dict.fromkeys(ids))
        organization = self.context["request"].auth.organization
        found = Community.objects.for_org(organization).in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            message = serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"]
            raise serializers.ValidationError([message.format(pk_value=pk) for pk in missing[:5]])
        return [found[pk] for pk in ids]


class RulesTemplateSerializer(serializers.Serializer):
    template = serializers.ChoiceField(
        choices=[(key, spec["label"]) for key, spec in TEMPLATES.items()]
    )


class StaffAssignmentSerializer(serializers.ModelSerializer):
    community = OrgPrimaryKeyRelatedField(model=Community)
    user = OrgPrimaryKeyRelatedField(
        model=User, scope=_active_members, help_text="An active member of the organization."
    )
    user_email = serializers.EmailField(source="user.email", read_only=True)
    user_name = serializers.CharField(source="user.full_name", read_only=True)
    role = serializers.ChoiceField(choices=CommunityRole.choices)

    class Meta:
        model = StaffAssignment
        fields = [
            "id",
            "community",
            "user",
            "user_email",
            "user_name",
            "role",
            "assigned_at",
            "assigned_by",
            "ended_at",
        ]
        read_only_fields = ["assigned_at", "assigned_by", "ended_at"]
        validators = []


class VipTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = VipTier
        exclude = ["organization"]
        read_only_fields = ["is_active"]  # POST …/deactivate/
        validators = []


class PointsRulesSerializer(serializers.ModelSerializer):
    """Fields left out keep their value."""

    class Meta:
        model = PointsRules
        fields = ["checkin", "share", "invite", "per_yuan", "repurchase_multiplier", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {name: {"required": False} for name in services.POINTS_FIELDS}
        validators = []


class RedemptionItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RedemptionItem
        fields = ["id", "name", "points_cost", "description", "stock", "is_active", "created_at"]
        read_only_fields = ["created_at"]
        validators = []


# --- Views ---------------------------------------------------------------------------------


class CommunityViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Chat groups. Archived, never deleted: no PUT, no DELETE; `POST …/archive/`, `…/restore/`."""

    summaries = {
        "list": "List groups",
        "retrieve": "Get a group",
        "create": "Create a group",
        "partial_update": "Update a group",
        "archive": "Archive a group",
        "restore": "Restore an archived group",
        "rules:get": "Get a group's intro and rules",
        "rules:put": "Change a group's intro and rules",
        "rules_copy": "Copy a group's rules to other groups",
        "rules_template": "Start a group's rules from a template",
    }
    conflicts = ("create", "partial_update")

    model = Community
    serializer_class = CommunitySerializer
    filterset_class = CommunityFilter
    # The fallback for actions not named below.
    capability = SEE
    capabilities = {
        "list": SEE,
        "retrieve": SEE,
        "rules": SEE,  # PUT also needs community.manage, checked in the method
        "create": MANAGE,
        "partial_update": MANAGE,
        "archive": MANAGE,
        "restore": MANAGE,
        "rules_copy": MANAGE,
        "rules_template": MANAGE,
    }
    serializer_classes = {
        "rules": CommunityRulesSerializer,
        "rules_copy": RulesCopySerializer,
        "rules_template": RulesTemplateSerializer,
    }

    def refine_queryset(self, queryset):
        # Both sides are this organization's groups; `&` keeps the rows visible to the actor
        # (all of them for org-wide viewers, no subquery).
        return queryset & visible_communities(self.actor)

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, self.serializer_class)

    @extend_schema(
        examples=[
            OpenApiExample(
                "A WeChat group",
                value={"name": "西安健康群", "platform": "wechat", "external_id": "wx-xian-001"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    "id": 12,
                    "name": "西安健康群",
                    "kind": "general",
                    "platform": "wechat",
                    "external_id": "wx-xian-001",
                    "capacity": 500,
                    "region": "",
                    "category": "",
                    "parent": None,
                    "tags": [],
                    "required_tier": None,
                    "status": "active",
                    "archived_at": None,
                    "created_at": "2026-11-21T12:00:00Z",
                    "updated_at": "2026-11-21T12:00:00Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ]
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        community = services.community_create(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(community).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        community = self.get_object()
        serializer = self.get_serializer(community, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        community = services.community_update(
            actor=self.actor, community=community, **serializer.validated_data
        )
        return Response(self.get_serializer(community).data)

    @extend_schema(request=None, responses=CommunitySerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        community = services.community_set_archived(
            actor=self.actor, community=object_for_bodiless_action(self), archived=True
        )
        return Response(self.get_serializer(community).data)

    @extend_schema(request=None, responses=CommunitySerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        community = services.community_set_archived(
            actor=self.actor, community=object_for_bodiless_action(self), archived=False
        )
        return Response(self.get_serializer(community).data)

    @extend_schema(
        methods=["GET"],
        responses=CommunityRulesSerializer,
        description="The group's intro, rules and enforcement, with the text a bot posts.",
    )
    @extend_schema(
        methods=["PUT"],
        request=CommunityRulesSerializer,
        responses=CommunityRulesSerializer,
        description="Change the intro, rules and enforcement (needs community.manage); "
        "fields left out keep their value.",
    )
    @action(detail=True, methods=["get", "put"], url_path="rules", url_name="rules")
    def rules(self, request, pk=None):
        community = self.get_object()
        if request.method == "PUT":
            require(self.actor, MANAGE, community)
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rules = services.rules_update(
                actor=self.actor, community=community, **serializer.validated_data
            )
        else:
            rules = CommunityRules.objects.for_org(self.organization).filter(
                community=community
            ).first() or CommunityRules(organization=self.organization, community=community)
        return self._rules_response(rules, community)

    @extend_schema(
        request=RulesCopySerializer,
        responses=inline_serializer("RulesCopyResult", {"copied": serializers.IntegerField()}),
        description="Copy this group's intro, rules and enforcement to other groups, all or "
        "nothing.",
    )
    @action(detail=True, methods=["post"], url_path="rules/copy", url_name="rules-copy")
    def rules_copy(self, request, pk=None):
        source = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copied = services.rules_copy(
            actor=self.actor, source=source, targets=serializer.validated_data["targets"]
        )
        return Response({"copied": copied})

    @extend_schema(
        request=RulesTemplateSerializer,
        responses=CommunityRulesSerializer,
        description="Replace the intro and rules with a ready-made template.",
    )
    @action(detail=True, methods=["post"], url_path="rules/template", url_name="rules-template")
    def rules_template(self, request, pk=None):
        community = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rules = services.rules_apply_template(
            actor=self.actor, community=community, template=serializer.validated_data["template"]
        )
        return self._rules_response(rules, community)

    def _rules_response(self, rules, community):
        rules.community = community  # render_text names the group: no second query
        return Response(CommunityRulesSerializer(rules, context=self.get_serializer_context()).data)


class StaffAssignmentViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Who holds which role in which group. Active ones by default (`?include_ended=1` for the
    history); ended, never deleted (`POST …/end/`)."""

    summaries = {
        "end": "End a staff assignment",
    }
    conflicts = ("create",)

    model = StaffAssignment
    serializer_class = StaffAssignmentSerializer
    filterset_class = StaffAssignmentFilter
    # The fallback for actions not named below.
    capability = SEE
    capabilities = {
        "list": SEE,
        "retrieve": SEE,
        "create": STAFF_MANAGE,
        "end": STAFF_MANAGE,
    }

    def refine_queryset(self, queryset):
        return queryset.filter(community__in=visible_communities(self.actor)).select_related("user")

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.staff_assign(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=StaffAssignmentSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        assignment = services.staff_unassign(
            actor=self.actor, assignment=object_for_bodiless_action(self)
        )
        return Response(self.get_serializer(assignment).data)


class VipTierViewSet(
    ListFiltersOnly,
    ServiceSaveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantViewSet,
):
    """VIP tiers with their entry conditions and benefits. Deactivated, never deleted."""

    summaries = {
        "deactivate": "Deactivate a tier",
    }
    conflicts = ("create", "partial_update", "deactivate")

    model = VipTier
    serializer_class = VipTierSerializer
    filterset_class = VipTierFilter
    # The fallback for actions not named below.
    capability = VIEW
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "deactivate": MANAGE,
    }

    save_service = staticmethod(services.tier_save)
    instance_kwarg = "tier"

    @extend_schema(request=None, responses=VipTierSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        tier = services.tier_deactivate(actor=self.actor, tier=object_for_bodiless_action(self))
        return Response(self.get_serializer(tier).data)


class RedemptionItemViewSet(
    ListFiltersOnly,
    ServiceSaveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantViewSet,
):
    """What members can exchange points for. Retired with `is_active: false`, never deleted."""

    model = RedemptionItem
    serializer_class = RedemptionItemSerializer
    filterset_class = RedemptionItemFilter
    # The fallback for actions not named below.
    capability = VIEW
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
    }

    save_service = staticmethod(services.redemption_item_save)
    instance_kwarg = "item"


class PointsRulesView(TenantAPIView):
    """The organization's points rules (one set per organization)."""

    summaries = {
        "get": "Get the points rules",
        "put": "Change the points rules",
    }

    serializer_class = PointsRulesSerializer
    # The fallback for actions not named below.
    capability = VIEW
    capabilities = {"get": VIEW, "put": MANAGE}

    @extend_schema(responses=PointsRulesSerializer)
    def get(self, request):
        return Response(PointsRulesSerializer(services.points_rules_of(self.organization)).data)

    @extend_schema(
        request=PointsRulesSerializer,
        responses=PointsRulesSerializer,
        description="Change the points rules; fields left out keep their value.",
    )
    def put(self, request):
        serializer = PointsRulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rules = services.points_rules_update(actor=self.actor, **serializer.validated_data)
        return Response(PointsRulesSerializer(rules).data)
