"""Accounts API: the caller's workspaces."""

from ninja import Router

from accounts.access import get_scoped_or_404, visible_workspaces
from accounts.models import Membership, Workspace
from accounts.schemas import WorkspaceOut

router = Router(tags=["workspaces"])


def _workspace_out(workspace: Workspace, role: str) -> dict:
    return {"id": workspace.pk, "name": workspace.name, "slug": workspace.slug, "role": role}


@router.get("/workspaces", response=list[WorkspaceOut])
def workspace_list(request):
    roles = dict(Membership.objects.filter(user=request.user).values_list("workspace_id", "role"))
    return [_workspace_out(w, roles[w.pk]) for w in visible_workspaces(request)]


@router.get("/workspaces/{workspace_id}", response=WorkspaceOut)
def workspace_get(request, workspace_id: int):
    workspace = get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )
    role = Membership.objects.get(user=request.user, workspace=workspace).role
    return _workspace_out(workspace, role)
