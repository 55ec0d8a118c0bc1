"""REST API of coupon templates (docs/coupons.md): list, create, retire, and give a template's
coupons to members by id. Thin: every change is a function of campaigns/coupons.py."""

from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from communities.models import Community
from core.api_fields import ListFiltersOnly, object_for_bodiless_action
from core.errors import Conflict
from members.selectors import visible_members
from tenancy.api_base import TenantViewSet
from tenancy.api_fields import OrgPrimaryKeyRelatedField

from . import coupons
from .models import (
    Campaign,
    CouponKind,
    CouponScope,
    CouponStatus,
    CouponTemplate,
    CouponTemplateTarget,
)


class CouponTemplateSerializer(serializers.ModelSerializer):
    campaigns = serializers.SerializerMethodField()
    communities = serializers.SerializerMethodField()
    points_cost = serializers.SerializerMethodField()
    used = serializers.IntegerField(read_only=True, help_text="Coupons of it used on orders.")
    available = serializers.IntegerField(
        read_only=True, help_text="Coupons of it given and still usable or not yet expired."
    )

    class Meta:
        model = CouponTemplate
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "max_off",
            "min_spend",
            "free_shipping",
            "valid_days",
            "valid_from",
            "valid_until",
            "scope",
            "campaigns",
            "communities",
            "quantity_limit",
            "points_cost",
            "issued_count",
            "used",
            "available",
            "is_active",
            "retired_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "value": {"help_text": "Yuan off (amount) or percent off, 1-100 (percent)."},
            "max_off": {"help_text": "Percent coupons: at most this many yuan off; null: no cap."},
            "issued_count": {"help_text": "Coupons of it given so far (by every path)."},
        }

    def get_campaigns(self, obj) -> list[int]:
        return [t.campaign_id for t in obj.targets.all() if t.campaign_id]

    def get_communities(self, obj) -> list[int]:
        return [t.community_id for t in obj.targets.all() if t.community_id]

    def get_points_cost(self, obj) -> int | None:
        """Points a member redeems for it (the points catalogue); null: not in the catalogue."""
        return obj.redemption_item.points_cost if obj.redemption_item_id else None


class CouponTemplateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=CouponKind.choices)
    value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    max_off = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    min_spend = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    free_shipping = serializers.BooleanField(default=False)
    valid_days = serializers.IntegerField(
        min_value=1,
        max_value=coupons.MAX_VALIDITY_DAYS,
        required=False,
        allow_null=True,
        help_text="Days a coupon is valid after it is given; this or `valid_until` is needed.",
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="With `valid_days` as well, a coupon expires at whichever comes first.",
    )
    scope = serializers.ChoiceField(choices=CouponScope.choices, default=CouponScope.ALL)
    campaigns = serializers.ListField(
        child=OrgPrimaryKeyRelatedField(model=Campaign),
        required=False,
        max_length=200,
        help_text="`scope=campaigns`: the campaigns it applies to.",
    )
    communities = serializers.ListField(
        child=OrgPrimaryKeyRelatedField(model=Community),
        required=False,
        max_length=200,
        help_text="`scope=groups`: the groups whose campaigns it applies to.",
    )
    quantity_limit = serializers.IntegerField(
        min_value=1, max_value=10_000_000, required=False, allow_null=True
    )
    points_cost = serializers.IntegerField(
        min_value=1,
        max_value=10_000_000,
        required=False,
        allow_null=True,
        help_text="Puts it in the points catalogue at this many points.",
    )


class CouponIssueSerializer(serializers.Serializer):
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=coupons.BATCH_LIMIT,
        help_text="Member ids. Each member's coupon is given on its own: ids that cannot get "
        "one are listed in `rejected` with the reason, the others are kept.",
    )
    reason = serializers.CharField(
        max_length=200, help_text="Why (kept in each coupon's history and the audit log)."
    )


class IssuedItemSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    coupon = serializers.IntegerField(help_text="The issued coupon's id.")


class RejectedItemSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    reason = serializers.CharField()


class CouponIssueResultSerializer(serializers.Serializer):
    issued = IssuedItemSerializer(many=True)
    rejected = RejectedItemSerializer(many=True)


class CouponTemplateViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Coupon templates. A template's terms never change once saved: to change an offer,
    create a new template and retire the old one (the coupons given stay valid). `issue`
    gives the template's coupon to members by id; the members are told by the bot."""

    summaries = {
        "retire": "Retire a coupon template",
        "issue": "Give members a coupon each",
    }
    conflicts = ("retire", "issue")

    model = CouponTemplate
    serializer_class = CouponTemplateSerializer
    capability = "campaign.view"
    capabilities = {
        "list": "campaign.view",
        "retrieve": "campaign.view",
        "create": "campaign.manage",
        "retire": "campaign.manage",
        "issue": "campaign.manage",
    }

    def refine_queryset(self, queryset):
        return (
            queryset.select_related("redemption_item")
            .prefetch_related(
                Prefetch(
                    "targets", queryset=CouponTemplateTarget.objects.for_org(self.organization)
                )
            )
            .annotate(
                used=Count("issued", filter=Q(issued__status=CouponStatus.USED)),
                available=Count("issued", filter=Q(issued__status=CouponStatus.AVAILABLE)),
            )
            .order_by("-pk")
        )

    def _answer(self, template, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data, code)

    @extend_schema(
        request=CouponTemplateCreateSerializer, responses={201: CouponTemplateSerializer}
    )
    def create(self, request):
        data = CouponTemplateCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        template = coupons.template_create(actor=self.actor, **data.validated_data)
        return self._answer(template, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CouponTemplateSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        template = coupons.template_retire(
            actor=self.actor, template=object_for_bodiless_action(self)
        )
        return self._answer(template)

    @extend_schema(
        request=CouponIssueSerializer,
        responses=CouponIssueResultSerializer,
        examples=[
            OpenApiExample(
                "Two given, one unknown id",
                value={
                    "issued": [{"member": 12, "coupon": 301}, {"member": 15, "coupon": 302}],
                    "rejected": [{"member": 999, "reason": "No such member."}],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        template = self.get_object()
        data = CouponIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(data.validated_data["members"]))
        found = visible_members(self.actor).in_bulk(ids)
        rejected = [{"member": pk, "reason": _("No such member.")} for pk in ids if pk not in found]
        issued = []
        if found:
            if not template.is_active:
                raise Conflict(_("This coupon is retired."))
            result = coupons.coupon_issue_many(
                actor=self.actor,
                template=template,
                members=[found[pk] for pk in ids if pk in found],
                reason=data.validated_data["reason"],
            )
            issued = [{"member": c.member_id, "coupon": c.pk} for c in result.issued]
            rejected += [{"member": m.pk, "reason": str(why)} for m, why in result.refused]
        return Response(CouponIssueResultSerializer({"issued": issued, "rejected": rejected}).data)
