"""Accounts API: the caller's workspaces, their members, and personal API keys."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from ninja import Router

from accounts import services
from accounts.access import get_scoped_or_404, visible_workspaces
from accounts.auth import KEY_HEADER, session_auth
from accounts.models import ApiKey, Membership, Workspace
from accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    MemberIn,
    MemberOut,
    MemberRoleIn,
    WorkspaceOut,
)
from pycaret_studio.schemas import Id

router = Router(tags=["workspaces"])


def _workspace_out(workspace: Workspace, role: str) -> dict:
    return {"id": workspace.pk, "name": workspace.name, "slug": workspace.slug, "role": role}


def _visible_workspace(request, workspace_id: int) -> Workspace:
    return get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )


@router.get("/workspaces", response=list[WorkspaceOut])
def workspaces_list(request):
    roles = dict(Membership.objects.filter(user=request.user).values_list("workspace_id", "role"))
    return [_workspace_out(w, roles[w.pk]) for w in visible_workspaces(request)]


@router.get("/workspaces/{workspace_id}", response=WorkspaceOut)
def workspaces_get(request, workspace_id: Id):
    workspace = _visible_workspace(request, workspace_id)
    role = Membership.objects.get(user=request.user, workspace=workspace).role
    return _workspace_out(workspace, role)


def _member_out(m: Membership) -> dict:
    return {
        "id": m.pk,
        "user_id": m.user_id,
        "username": m.user.username,
        "email": m.user.email,
        "role": m.role,
    }


@router.get("/workspaces/{workspace_id}/members", response=list[MemberOut])
def members_list(request, workspace_id: Id):
    workspace = _visible_workspace(request, workspace_id)
    return [_member_out(m) for m in workspace.memberships.select_related("user")]


@router.post("/workspaces/{workspace_id}/members", response={201: MemberOut})
def members_create(request, workspace_id: Id, payload: MemberIn):
    membership = services.member_add(
        workspace=_visible_workspace(request, workspace_id),
        identifier=payload.username or payload.email,
        role=payload.role,
        request=request,
    )
    return 201, _member_out(membership)


def _membership(request, workspace_id: int, member_id: int) -> Membership:
    workspace = _visible_workspace(request, workspace_id)
    return get_object_or_404(
        Membership.objects.select_related("user", "workspace"), workspace=workspace, pk=member_id
    )


@router.patch("/workspaces/{workspace_id}/members/{member_id}", response=MemberOut)
def members_update(request, workspace_id: Id, member_id: Id, payload: MemberRoleIn):
    membership = _membership(request, workspace_id, member_id)
    services.member_change_role(membership=membership, role=payload.role, request=request)
    return _member_out(membership)


@router.delete("/workspaces/{workspace_id}/members/{member_id}", response={204: None})
def members_delete(request, workspace_id: Id, member_id: Id):
    services.member_remove(
        membership=_membership(request, workspace_id, member_id), request=request
    )
    return 204, None


keys_router = Router(tags=["api keys"])


@keys_router.post("/auth/api-keys", response={201: ApiKeyCreatedOut}, auth=[session_auth])
def api_keys_create(request, payload: ApiKeyIn):
    if request.headers.get(KEY_HEADER):
        raise PermissionDenied("API keys cannot create API keys; sign in to the studio instead.")
    workspace = None
    if payload.workspace_id is not None:
        workspace = _visible_workspace(request, payload.workspace_id)
    key, plaintext = services.api_key_create(
        user=request.user,
        name=payload.name,
        scopes=payload.scopes,
        workspace=workspace,
        expires_in_days=payload.expires_in_days,
        request=request,
    )
    return 201, {
        "id": key.pk,
        "name": key.name,
        "prefix": key.prefix,
        "token": plaintext,
        "scopes": key.scopes,
        "workspace_id": key.workspace_id,
        "expires_at": key.expires_at,
        "created_at": key.created_at,
    }


@keys_router.get("/auth/api-keys", response=list[ApiKeyOut])
def api_keys_list(request):
    return list(ApiKey.objects.filter(user=request.user))


@keys_router.delete("/auth/api-keys/{key_id}", response={204: None})
def api_keys_delete(request, key_id: Id):
    calling_key = getattr(request, "api_key", None)
    if calling_key is not None and "write" not in calling_key.scopes:
        raise PermissionDenied("Revoking a key with an API key needs the 'write' scope.")
    keys = ApiKey.objects.all() if request.user.is_superuser else request.user.api_keys.all()
    key = get_object_or_404(keys, pk=key_id)
    services.api_key_revoke(key=key, by=request.user, request=request)
    return 204, None


router.add_router("", keys_router)
