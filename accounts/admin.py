"""The admin as audit view: users, workspaces, memberships, API keys and the audit log."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import AuditEvent, Membership, User, Workspace


@admin.register(User)
class StudioUserAdmin(UserAdmin):
    pass


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "actor",
        "api_key",
        "workspace",
        "target_type",
        "target_id",
        "ip",
    ]
    list_filter = ["action", "workspace", "actor", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["action", "target_id", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
