"""Django admin for platform operators (is_staff users). Not a tenant-facing page."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiKey, AuditLogEntry, Invitation, Organization, OrgMembership, User
from .system import system_db


class TenantAdmin(admin.ModelAdmin):
    """Platform admins see every organization: the explicit escape from tenant scoping, on the
    system database role (tenancy/system.py), the one role that may read across organizations.
    Django's multiple-database admin pattern: reads, writes and choices all on that alias."""

    list_select_related = ["organization"]

    def get_queryset(self, request):
        return self.model.objects.unscoped().using(system_db())

    def save_model(self, request, obj, form, change):
        obj.save(using=system_db())

    def delete_model(self, request, obj):
        obj.delete(using=system_db())

    def delete_queryset(self, request, queryset):
        queryset.using(system_db()).delete()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, using=system_db(), **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, using=system_db(), **kwargs)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal: list[str] = []
    list_filter = ["is_active", "is_staff"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "default_language", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(OrgMembership)
class OrgMembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["role", "is_active"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at"]
    exclude = ["token_hash"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ["name", "prefix", "organization", "role", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(TenantAdmin):
    list_display = ["created_at", "organization", "actor_label", "action", "object_repr"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
