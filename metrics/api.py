"""`/api/v1/metrics/…`: the overview, one community, staff performance, the commission ladder,
and each table as CSV. Windows: `window=7|30|90` (days ending today) or `start`/`end`."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from communities.models import Community
from tenancy.api_base import TenantAPIView

from . import exports, report_cache, selectors, staff
from .serializers import (
    CommunityReportSerializer,
    LadderSerializer,
    LadderStepSerializer,
    OverviewSerializer,
    StaffPerformanceSerializer,
)
from .windows import parse_window

WINDOW_PARAMETERS = [
    OpenApiParameter("window", int, enum=[7, 30, 90], description="Days ending today."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="Custom window: first day."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Custom window: last day."),
]
SORT_PARAMETER = OpenApiParameter(
    "sort",
    str,
    enum=[f"{d}{k}" for k in selectors.SORT_KEYS for d in ("", "-")],
    description="Order of the rows; '-' for descending.",
)
MONTH_PARAMETER = OpenApiParameter("month", str, description="YYYY-MM (default: this month).")
CSV_RESPONSE = {(200, "text/csv"): OpenApiTypes.STR}


def _window(view, request):
    return parse_window(view.organization, request.query_params)


class OverviewView(TenantAPIView):
    """Every group with its members, the three rates and their change against the previous
    window, sortable; a staff key's view is limited to its groups."""

    summaries = {
        "get": "Get every group's rates",
    }

    capability = "metrics.view"

    @extend_schema(parameters=[*WINDOW_PARAMETERS, SORT_PARAMETER], responses=OverviewSerializer)
    def get(self, request):
        data = selectors.overview(
            self.actor, _window(self, request), request.query_params.get("sort", "-members")
        )
        data["definitions"] = selectors.definitions()
        return Response(OverviewSerializer(data).data)


class OverviewExportView(TenantAPIView):
    summaries = {
        "get": "Export the overview as CSV",
    }
    capability = "metrics.export"

    @extend_schema(
        operation_id="metrics_overview_csv",
        parameters=[*WINDOW_PARAMETERS, SORT_PARAMETER],
        responses=CSV_RESPONSE,
    )
    def get(self, request):
        data = selectors.overview(
            self.actor, _window(self, request), request.query_params.get("sort", "-members")
        )
        return exports.csv_response("metrics-overview.csv", *exports.overview_csv(data))


def _community(view, pk, *, stamped=False) -> Community:
    communities = selectors.metric_communities(view.actor)
    if stamped:  # the cache key of the report's rollup part, in the same query
        communities = communities.annotate(
            rollups_stamp=report_cache.rollups_stamp(view.organization)
        )
    try:
        return communities.get(pk=pk)
    except (Community.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


class CommunityMetricsView(TenantAPIView):
    """One group: rates with change, daily series, hour-of-week heatmap, churn reasons,
    join-week cohort retention, dormancy, top contributors and campaign reviews."""

    summaries = {
        "get": "Get one group's metrics",
    }

    capability = "metrics.view"

    @extend_schema(parameters=WINDOW_PARAMETERS, responses=CommunityReportSerializer)
    def get(self, request, pk):
        community = _community(self, pk, stamped=True)
        return Response(
            report_cache.community_report(self.actor, community, _window(self, request))
        )


class CommunityTableExportView(TenantAPIView):
    summaries = {
        "get": "Export a table of a group's metrics as CSV",
    }
    capability = "metrics.export"

    @extend_schema(
        operation_id="metrics_community_table_csv",
        parameters=WINDOW_PARAMETERS,
        responses=CSV_RESPONSE,
    )
    def get(self, request, pk, table):
        if table not in exports.TABLES:
            raise Http404
        community = _community(self, pk)
        report = selectors.community_report(self.actor, community, _window(self, request))
        header, rows = exports.community_tables(report)[table]
        return exports.csv_response(f"metrics-{community.pk}-{table}.csv", header, rows)


class StaffPerformanceView(TenantAPIView):
    """Per staff member for a month: orders and revenue of their groups, the commission the
    ladder gives, their groups' activity, care response times; and award suggestions."""

    summaries = {
        "get": "Get staff performance for a month",
    }

    capability = "metrics.revenue"

    @extend_schema(parameters=[MONTH_PARAMETER], responses=StaffPerformanceSerializer)
    def get(self, request):
        month = staff.parse_month(self.organization, request.query_params.get("month"))
        return Response(
            StaffPerformanceSerializer(staff.staff_performance(self.organization, month)).data
        )


class StaffPerformanceExportView(TenantAPIView):
    summaries = {
        "get": "Export staff performance as CSV",
    }
    capability = "metrics.export"
    capabilities = {"get": "metrics.revenue"}

    @extend_schema(
        operation_id="metrics_staff_csv", parameters=[MONTH_PARAMETER], responses=CSV_RESPONSE
    )
    def get(self, request):
        month = staff.parse_month(self.organization, request.query_params.get("month"))
        data = staff.staff_performance(self.organization, month)
        return exports.csv_response(f"staff-{month:%Y-%m}.csv", *exports.staff_csv(data))


class CommissionLadderView(TenantAPIView):
    """The org's tiered commission: each step pays its percent on the month's revenue once a
    staff member's groups reach its number of orders (seed 002: 10% from 10, 12% from 20)."""

    summaries = {
        "get": "Get the commission ladder",
        "put": "Replace the commission ladder",
    }

    capability = "metrics.revenue"
    capabilities = {"get": "metrics.revenue", "put": "org.manage"}

    @extend_schema(responses=LadderSerializer)
    def get(self, request):
        steps = staff.ladder(self.organization)
        return Response({"steps": LadderStepSerializer(steps, many=True).data})

    @extend_schema(request=LadderSerializer, responses=LadderSerializer)
    def put(self, request):
        serializer = LadderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = [(s["min_orders"], s["rate_percent"]) for s in serializer.validated_data["steps"]]
        created = staff.ladder_set(actor=self.actor, steps=steps)
        return Response({"steps": LadderStepSerializer(created, many=True).data})
