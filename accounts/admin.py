"""The admin as audit view: users, workspaces, memberships, API keys and the audit log."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiKey, AuditEvent, Invitation, Membership, User, Workspace
from accounts.services import api_key_revoke


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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "identifier",
        "workspace",
        "role",
        "status",
        "invitee",
        "invited_by",
        "created_at",
    ]
    list_filter = ["status", "role", "workspace"]
    search_fields = ["identifier", "workspace__name", "invitee__username"]
    readonly_fields = ["invitee", "invited_by", "created_at", "responded_at"]


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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are listed and revoked here; neither the hash nor any plaintext is ever shown."""

    list_display = [
        "prefix",
        "name",
        "user",
        "workspace",
        "scopes",
        "status",
        "expires_at",
        "last_used_at",
        "created_at",
    ]
    list_filter = ["workspace", ("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["prefix", "name", "user__username", "user__email"]
    fields = [
        "prefix",
        "name",
        "user",
        "workspace",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays for the audit trail

    @admin.display(description="Status")
    def status(self, obj: ApiKey) -> str:
        return obj.status

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, by=request.user, request=request)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)
