"""Django admin for platform operators: read-only views of cases and follow-up rules."""

from django.contrib import admin

from tenancy.admin import TenantAdmin

from .models import Case, FollowUpRule


class ReadOnlyTenantAdmin(TenantAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyTenantAdmin):
    list_display = ["id", "organization", "kind", "status", "subject", "opened_at"]
    list_filter = ["kind", "status"]


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(ReadOnlyTenantAdmin):
    list_display = ["id", "organization", "name", "trigger", "channel", "is_active"]
