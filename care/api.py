"""REST API of member care: cases (list, detail with the timeline, open, step, comment,
assign) and after-sales follow-ups (list, detail, finish).

Reading needs `care.view` (owner, manager, analyst org-wide); what a key sees is the
organization's cases. Changing a case needs `care.manage` in the case's group, checked by the
service once the case is found (so an analyst key gets 403). Staff-role keys have no person
and so no groups behind them: they are refused like other readers without `care.view`.
Every write goes through `care.services` / `care.followups`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns.models import Order
from communities.models import Community
from core.api_fields import ListFiltersOnly
from members.models import Member
from tenancy.api_base import TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField
from tenancy.models import User

from . import followups, services
from .models import (
    NOT_CLOSED,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    FollowUpStatus,
    FollowUpTask,
    Priority,
    Resolution,
)
from .selectors import QUEUES, overdue_q, visible_cases, visible_follow_ups

SEE = "care.view"
HANDLE = "care.manage"


def _org_users(organization):
    return User.objects.filter(
        org_memberships__organization=organization, org_memberships__is_active=True
    )


@extend_schema_field(OpenApiTypes.INT)
class UserField(serializers.PrimaryKeyRelatedField):
    """A person of the request's organization (their user id)."""

    def get_queryset(self):
        actor = getattr(self.context.get("request"), "auth", None)
        if actor is None:
            return User.objects.none()
        return _org_users(actor.organization)


class CaseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "step", "text", "actor_user", "actor_label", "created_at"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "member",
            "community",
            "order",
            "kind",
            "priority",
            "status",
            "subject",
            "source",
            "source_event_id",
            "assignee",
            "opened_at",
            "opened_by_label",
            "clock_started_at",
            "first_response_due_at",
            "is_overdue",
            "responded_at",
            "responded_by",
            "acknowledged_at",
            "resolved_at",
            "resolved_by",
            "resolution",
            "followed_up_at",
            "closed_at",
            "reopen_count",
            "reopened_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        return obj.is_overdue()


class CaseDetailSerializer(CaseSerializer):
    timeline = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "timeline"]
        read_only_fields = fields

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_timeline(self, obj) -> list[dict]:
        events = obj.events.order_by("created_at", "pk")[:500]
        return CaseEventSerializer(events, many=True).data


class CaseCreateSerializer(serializers.Serializer):
    member = OrgPrimaryKeyRelatedField(model=Member)
    community = OrgPrimaryKeyRelatedField(model=Community, required=False, allow_null=True)
    order = OrgPrimaryKeyRelatedField(model=Order, required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    subject = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    assignee = UserField(required=False, allow_null=True)


class StepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        choices=CaseStatus.choices, help_text="The next step; `open` is where a case starts."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    resolution = serializers.ChoiceField(
        choices=Resolution.choices, required=False, allow_blank=True, default=""
    )
    reply = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Text the bot sends the member in the group (a post.reply action).",
    )


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the case is reopened.")


class AssignSerializer(serializers.Serializer):
    assignee = UserField(allow_null=True, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class CaseViewSet(ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Complaints and after-sales cases. Lists: `?queue=unassigned|overdue|open|closed`,
    `?community=<id>`, `?status=`, `?kind=`."""

    summaries = {
        "step": "Take a case to its next step",
        "comment": "Comment on a case",
        "reopen": "Reopen a case",
        "assign": "Assign a case",
    }
    conflicts = ("create", "step", "reopen")

    model = Case
    serializer_class = CaseSerializer
    extra_query_params = ("queue", "community", "status", "kind")
    capability = SEE
    community_capabilities = {
        "create": HANDLE,
        "step": HANDLE,
        "comment": HANDLE,
        "assign": HANDLE,
        "reopen": HANDLE,
    }
    serializer_classes = {
        "retrieve": CaseDetailSerializer,
        "create": CaseCreateSerializer,
        "step": StepSerializer,
        "comment": CommentSerializer,
        "assign": AssignSerializer,
        "reopen": ReopenSerializer,
    }

    def refine_queryset(self, queryset):
        queryset = queryset & visible_cases(self.actor)
        params = self.request.query_params if self.action == "list" else {}
        wanted = params.get("queue")
        if wanted == "unassigned":
            queryset = queryset.filter(assignee=None, status__in=NOT_CLOSED)
        elif wanted == "overdue":
            queryset = queryset.filter(overdue_q())
        elif wanted == "open":
            queryset = queryset.filter(status__in=NOT_CLOSED)
        elif wanted == "closed":
            queryset = queryset.filter(status=CaseStatus.CLOSED)
        community = str(params.get("community", ""))
        if community.isdigit() and len(community) < 19:
            queryset = queryset.filter(community_id=int(community))
        if params.get("status") in CaseStatus.values:
            queryset = queryset.filter(status=params["status"])
        if params.get("kind") in CaseKind.values:
            queryset = queryset.filter(kind=params["kind"])
        return queryset.select_related("member")

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, self.serializer_class)

    def _detail(self, case):
        case = self.model.objects.for_org(self.organization).get(pk=case.pk)
        return CaseDetailSerializer(case, context=self.get_serializer_context()).data

    @extend_schema(
        parameters=[
            OpenApiParameter("queue", str, enum=QUEUES[1:]),
            OpenApiParameter("community", int),
            OpenApiParameter("status", str, enum=CaseStatus.values),
            OpenApiParameter("kind", str, enum=CaseKind.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer},
        description="Open a case (needs care.manage in the group; the group defaults to the "
        "order's, the assignee to the group's deputy). One open complaint per member per group.",
    )
    def create(self, request):
        if not services.may_open_cases(self.actor):
            raise PermissionDenied
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_open(actor=self.actor, **serializer.validated_data)
        return Response(self._detail(case), status=status.HTTP_201_CREATED)

    def _act(self, service, **extra):
        case = self.get_object()
        services.require_case(self.actor, case)
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        service(actor=self.actor, case=case, **serializer.validated_data, **extra)
        return Response(self._detail(case))

    @extend_schema(
        request=StepSerializer,
        responses=CaseDetailSerializer,
        description="The next step: responded → acknowledged → resolved (with `resolution`) → "
        "followed_up → closed. No step can be skipped. A `refund` resolution refunds the "
        "case's paid order (needs order.manage).",
    )
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        return self._act(services.case_step)

    @extend_schema(request=CommentSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        return self._act(services.case_comment)

    @extend_schema(
        request=ReopenSerializer,
        responses=CaseDetailSerializer,
        description="The member came back: a resolved, followed-up or closed case returns to "
        "`acknowledged` and waits for a new resolution (the earlier steps stay in the timeline; "
        "a refund already made is not undone).",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._act(services.case_reopen)

    @extend_schema(
        request=AssignSerializer,
        responses=CaseDetailSerializer,
        description="Assign (a person who may handle the group's cases; null: unassigned) "
        "and/or change the priority.",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        case = self.get_object()
        services.require_case(self.actor, case)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.case_assign(
            actor=self.actor,
            case=case,
            assignee=data.get("assignee", case.assignee),
            priority=data.get("priority"),
        )
        return Response(self._detail(case))


class FollowUpSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = FollowUpTask
        fields = [
            "id",
            "rule",
            "rule_name",
            "order",
            "member",
            "community",
            "channel",
            "text",
            "status",
            "assignee",
            "action",
            "due_at",
            "created_at",
            "done_at",
            "done_by_label",
            "note",
            "case",
        ]
        read_only_fields = fields


class FinishSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["done", "skipped"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    open_case = serializers.BooleanField(required=False, default=False)


class FollowUpViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """After-sales follow-ups made by the organization's rules. `?status=open|sent|done|skipped`."""

    summaries = {
        "finish": "Finish a follow-up",
    }
    conflicts = ("finish",)

    model = FollowUpTask
    serializer_class = FollowUpSerializer
    extra_query_params = ("status",)
    capability = SEE
    community_capabilities = {"finish": HANDLE}

    def refine_queryset(self, queryset):
        queryset = (queryset & visible_follow_ups(self.actor)).select_related("rule")
        params = self.request.query_params if self.action == "list" else {}
        if params.get("status") in FollowUpStatus.values:
            queryset = queryset.filter(status=params["status"])
        return queryset

    def get_serializer_class(self):
        return FinishSerializer if self.action == "finish" else FollowUpSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=FollowUpStatus.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=FinishSerializer,
        responses=FollowUpSerializer,
        description="Finish a follow-up: done (optionally opening an after-sales case) or "
        "skipped. Needs care.manage in the group.",
    )
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        task = self.get_object()
        followups._require_task(self.actor, task)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = followups.follow_up_finish(actor=self.actor, task=task, **serializer.validated_data)
        return Response(FollowUpSerializer(task).data)
