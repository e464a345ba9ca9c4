from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("workspaces/switch/", views.workspace_switch, name="workspace_switch"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="workspace_detail"),
    path("workspaces/<int:workspace_id>/members/", views.member_add, name="member_add"),
    path(
        "workspaces/<int:workspace_id>/members/<int:member_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "workspaces/<int:workspace_id>/members/<int:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("workspaces/<int:workspace_id>/leave/", views.workspace_leave, name="workspace_leave"),
    path("workspaces/<int:workspace_id>/audit/", views.workspace_audit, name="workspace_audit"),
    path(
        "workspaces/<int:workspace_id>/invitations/<int:invitation_id>/cancel/",
        views.invitation_cancel,
        name="invitation_cancel",
    ),
    path(
        "invitations/<int:invitation_id>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
]
