"""Accounts API: the caller's workspaces, their members and invitations, and personal API keys.

Routes that change the caller's own account (keys, joining or leaving a workspace) take a
signed-in session only (`session_only_auth`); a key on its own is no credential there (401).
"""

from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from ninja import Query, Router
from ninja.decorators import decorate_view

from accounts import selectors, services
from accounts.access import get_scoped_or_404, require, visible_workspaces
from accounts.auth import session_only_auth
from accounts.models import ApiKey, Invitation, Membership, Workspace
from accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    InvitationOut,
    MemberIn,
    MemberOut,
    MemberRoleIn,
    MyInvitationOut,
    WorkspaceOut,
)
from pycaret_studio.pagination import PageQuery, paged, paginate
from pycaret_studio.schemas import Id

router = Router(tags=["workspaces"])


def _workspace_out(workspace: Workspace, role: str) -> dict:
    return {"id": workspace.pk, "name": workspace.name, "slug": workspace.slug, "role": role}


def _visible_workspace(request, workspace_id: int) -> Workspace:
    return get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )


@router.get("/workspaces", response=paged(WorkspaceOut))
def workspaces_list(request, page: Query[PageQuery]):
    """The caller's workspaces, by name, each with the caller's role."""
    roles = dict(Membership.objects.filter(user=request.user).values_list("workspace_id", "role"))
    workspaces = visible_workspaces(request).order_by("name", "pk")
    return paginate(request, workspaces, page, to_out=lambda w: _workspace_out(w, roles[w.pk]))


@router.get("/workspaces/{workspace_id}", response=WorkspaceOut)
def workspaces_get(request, workspace_id: Id):
    workspace = _visible_workspace(request, workspace_id)
    role = Membership.objects.get(user=request.user, workspace=workspace).role
    return _workspace_out(workspace, role)


@router.post("/workspaces/{workspace_id}/leave", response={204: None}, auth=[session_only_auth])
def workspaces_leave(request, workspace_id: Id):
    """Leave the workspace. Every role may, except its last owner (409)."""
    services.member_leave(workspace=_visible_workspace(request, workspace_id), request=request)
    return 204, None


def _member_out(m: Membership) -> dict:
    return {
        "id": m.pk,
        "user_id": m.user_id,
        "username": m.user.username,
        "email": m.user.email,
        "role": m.role,
    }


def _invitation_out(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk,
        "workspace_id": invitation.workspace_id,
        "identifier": invitation.identifier,
        "role": invitation.role,
        "status": invitation.status,
        "invited_by": invitation.invited_by.username if invitation.invited_by else None,
        "created_at": invitation.created_at,
    }


@router.get("/workspaces/{workspace_id}/members", response=paged(MemberOut))
def members_list(request, workspace_id: Id, page: Query[PageQuery]):
    """The workspace's members, by username."""
    workspace = _visible_workspace(request, workspace_id)
    members = selectors.member_list(workspace=workspace).order_by("user__username", "pk")
    return paginate(request, members, page, to_out=_member_out)


@router.post("/workspaces/{workspace_id}/members", response={201: InvitationOut})
def members_create(request, workspace_id: Id, payload: MemberIn):
    """Invite someone (owners and admins). They become a member only once they accept. The
    answer is the same whether or not the username or email belongs to anyone."""
    invitation = services.invitation_create(
        workspace=_visible_workspace(request, workspace_id),
        identifier=payload.username or payload.email,
        role=payload.role,
        request=request,
    )
    return 201, _invitation_out(invitation)


def _membership(request, workspace_id: int, member_id: int) -> Membership:
    workspace = _visible_workspace(request, workspace_id)
    return get_object_or_404(
        Membership.objects.select_related("user", "workspace"), workspace=workspace, pk=member_id
    )


@router.patch("/workspaces/{workspace_id}/members/{member_id}", response=MemberOut)
def members_update(request, workspace_id: Id, member_id: Id, payload: MemberRoleIn):
    """Change someone else's role: owners any role; admins between member and viewer."""
    membership = _membership(request, workspace_id, member_id)
    services.member_change_role(membership=membership, role=payload.role, request=request)
    return _member_out(membership)


@router.delete("/workspaces/{workspace_id}/members/{member_id}", response={204: None})
def members_delete(request, workspace_id: Id, member_id: Id):
    """Remove someone: owners anyone but the last owner; admins members and viewers."""
    services.member_remove(
        membership=_membership(request, workspace_id, member_id), request=request
    )
    return 204, None


@router.get("/workspaces/{workspace_id}/invitations", response=paged(InvitationOut))
def workspace_invitations_list(request, workspace_id: Id, page: Query[PageQuery]):
    """The workspace's pending invitations, newest first (owners and admins)."""
    workspace = _visible_workspace(request, workspace_id)
    require(request, workspace, "manage_members")
    pending = selectors.invitation_list_for_workspace(workspace=workspace)
    return paginate(request, pending.order_by("-created_at", "-id"), page, to_out=_invitation_out)


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", response={204: None})
def workspace_invitations_delete(request, workspace_id: Id, invitation_id: Id):
    """Cancel a pending invitation."""
    workspace = _visible_workspace(request, workspace_id)
    invitation = selectors.invitation_in_workspace(workspace=workspace, invitation_id=invitation_id)
    services.invitation_cancel(invitation=invitation, request=request)
    return 204, None


invitations_router = Router(tags=["invitations"], auth=[session_only_auth])


def _my_invitation_out(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk,
        "workspace": {"id": invitation.workspace_id, "name": invitation.workspace.name},
        "role": invitation.role,
        "invited_by": invitation.invited_by.username if invitation.invited_by else None,
        "created_at": invitation.created_at,
    }


@invitations_router.get("/invitations", response=paged(MyInvitationOut))
def invitations_list(request, page: Query[PageQuery]):
    """Invitations addressed to the caller, waiting for an answer, newest first."""
    pending = selectors.invitation_list_pending(user=request.user).order_by("-created_at", "-id")
    return paginate(request, pending, page, to_out=_my_invitation_out)


@invitations_router.post("/invitations/{invitation_id}/accept", response=WorkspaceOut)
def invitations_accept(request, invitation_id: Id):
    """Join the workspace with the invitation's role."""
    invitation = selectors.invitation_for_invitee(user=request.user, invitation_id=invitation_id)
    membership = services.invitation_accept(invitation=invitation, request=request)
    return _workspace_out(invitation.workspace, membership.role)


@invitations_router.post("/invitations/{invitation_id}/decline", response={204: None})
def invitations_decline(request, invitation_id: Id):
    invitation = selectors.invitation_for_invitee(user=request.user, invitation_id=invitation_id)
    services.invitation_decline(invitation=invitation, request=request)
    return 204, None


keys_router = Router(tags=["api keys"], auth=[session_only_auth])


@keys_router.post("/auth/api-keys", response={201: ApiKeyCreatedOut})
@decorate_view(never_cache)  # the body holds the plaintext: no cache may keep it
def api_keys_create(request, payload: ApiKeyIn):
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


@keys_router.get("/auth/api-keys", response=paged(ApiKeyOut))
def api_keys_list(request, page: Query[PageQuery]):
    """The caller's API keys (revoked ones too), newest first; never a token."""
    keys = ApiKey.objects.filter(user=request.user).order_by("-created_at", "-id")
    return paginate(request, keys, page)


@keys_router.delete("/auth/api-keys/{key_id}", response={204: None})
def api_keys_delete(request, key_id: Id):
    keys = ApiKey.objects.all() if request.user.is_superuser else request.user.api_keys.all()
    key = get_object_or_404(keys, pk=key_id)
    services.api_key_revoke(key=key, by=request.user, request=request)
    return 204, None


router.add_router("", invitations_router)
router.add_router("", keys_router)
