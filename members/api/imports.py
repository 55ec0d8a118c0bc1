"""REST API of member CSV export and import (the import runs in the background)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api_fields import ListFiltersOnly
from core.api_filters import check_query_params
from members import csv_io
from members.filters import (
    ImportJobFilter,
    MemberFilter,
)
from members.models import (
    ImportJob,
    MembershipStatus,
)
from members.selectors import visible_members, visible_memberships
from tenancy.api_base import TenantAPIView, TenantViewSet
from tenancy.scope import scoped_stream

# Capabilities. SEE gates reading (what a key then sees is decided by the queryset) and the
# per-group actions, which check their own capability in the object's group.
EXPORT = "metrics.export"
EDIT = "member.edit"


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Row number in the file (the header is row 1); null: the file."
    )
    external_user_id = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    failed_rows = serializers.SerializerMethodField(help_text="Rows skipped with errors.")
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "file_name",
            "total_rows",
            "processed_rows",
            "created_rows",
            "updated_rows",
            "failed_rows",
            "percent",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_failed_rows(self, obj) -> int:
        return max(0, obj.processed_rows - obj.created_rows - obj.updated_rows)


class ImportJobDetailSerializer(ImportJobSerializer):
    errors = ImportRowErrorSerializer(
        many=True, read_only=True, help_text="The first 1,000 rows with errors."
    )

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        max_length=200,
        allow_empty_file=False,
        help_text="CSV, UTF-8 (with or without BOM), at most 5 MB; a header row with "
        "external_user_id and any of platform, display_name, name_card, tags, notes.",
    )


# --- Views ---------------------------------------------------------------------------------


class ImportJobViewSet(
    ListFiltersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """CSV imports of members (`POST /members/import/`): poll `GET …/{id}/` for the progress
    and, in the detail, the per-row error report."""

    model = ImportJob
    serializer_class = ImportJobSerializer
    filterset_class = ImportJobFilter
    capability = EDIT

    def refine_queryset(self, queryset):
        return queryset.select_related("created_by")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ImportJobDetailSerializer
        return self.serializer_class


class MemberExportView(TenantAPIView):
    """The members the key sees as a CSV for Excel (UTF-8 with BOM), one row per platform
    identity; the same filters as the member list."""

    summaries = {
        "get": "Export members as CSV",
    }

    capability = EXPORT

    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever the Accept header says; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="members_export_csv",
        parameters=[
            OpenApiParameter("q", str, description="Part of a name, name card or user id."),
            OpenApiParameter("tag", str, description="One whole tag."),
            OpenApiParameter("tier", int, description="VIP tier id."),
            OpenApiParameter("community", int, description="Group id."),
            OpenApiParameter(
                "status", str, enum=MembershipStatus.values, description="Membership status."
            ),
            OpenApiParameter("blocked", bool, description="On the block list (or not)."),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Columns: " + ", ".join(csv_io.EXPORT_COLUMNS) + ". Tags and "
                "groups are joined with ';'.",
            )
        },
    )
    def get(self, request):
        check_query_params(request, self, MemberFilter)
        filterset = MemberFilter(
            request.query_params, queryset=visible_members(self.actor), request=request
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        rows = csv_io.export_rows(
            organization=self.organization,
            members=filterset.qs,
            memberships=visible_memberships(self.actor),
        )
        response = StreamingHttpResponse(
            scoped_stream(self.organization, rows), content_type="text/csv; charset=utf-8"
        )
        filename = csv_io.export_filename(self.organization)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class MemberImportView(TenantAPIView):
    """Upload a CSV of members (multipart field `file`). The import runs in the background:
    202 with the job; poll `GET /member-imports/{id}/`."""

    summaries = {
        "post": "Import members from a CSV file",
    }

    capability = EDIT
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer},
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > csv_io.MAX_UPLOAD_BYTES + 64 * 1024:
            # Refused before the body is read; the form fields around the file add a few bytes.
            raise ValidationError({"file": [csv_io.too_big_message()]})
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = csv_io.import_upload(actor=self.actor, upload=serializer.validated_data["file"])
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
