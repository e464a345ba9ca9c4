"""Reads for accounts: the caller's default workspace, roles, members and invitations."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.access import visible_workspaces
from accounts.models import Invitation, Membership, Role, User, Workspace


def membership_role(*, workspace: Workspace, user: User | None) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(workspace=workspace, user=user)
        .values_list("role", flat=True)
        .first()
    )


def workspace_default(*, request) -> Workspace | None:
    """The workspace a page or a project without `workspace_id` lands in: the one the user last
    chose, else their own (the first they own, normally the personal one signup made), else the
    first they joined. Never simply the lowest id, which could be anybody's."""
    workspaces = visible_workspaces(request)
    user = request.user
    if not user.is_authenticated:
        return None
    if user.last_workspace_id is not None:
        chosen = workspaces.filter(pk=user.last_workspace_id).first()
        if chosen is not None:
            return chosen
    joined = (
        Membership.objects.filter(user=user, workspace__in=workspaces)
        .select_related("workspace")
        .order_by("pk")
    )
    first = joined.filter(role=Role.OWNER).first() or joined.first()
    return first.workspace if first is not None else None


def member_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user")


def invitation_list_pending(*, user: User) -> QuerySet[Invitation]:
    """The user's own pending invitations (what the dashboard banner shows)."""
    return Invitation.objects.filter(invitee=user, status=Invitation.Status.PENDING).select_related(
        "workspace", "invited_by"
    )


def invitation_list_for_workspace(*, workspace: Workspace) -> QuerySet[Invitation]:
    """A workspace's pending invitations, by what the inviter typed (never by whom it matched)."""
    return Invitation.objects.filter(
        workspace=workspace, status=Invitation.Status.PENDING
    ).select_related("invited_by")


def invitation_for_invitee(*, user: User, invitation_id: int) -> Invitation:
    """One of the user's own invitations; anyone else's (or none) is a 404."""
    try:
        return Invitation.objects.select_related("workspace", "invited_by").get(
            pk=invitation_id, invitee=user
        )
    except (Invitation.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such invitation.") from exc


def invitation_in_workspace(*, workspace: Workspace, invitation_id: int) -> Invitation:
    try:
        return Invitation.objects.select_related("workspace").get(
            pk=invitation_id, workspace=workspace
        )
    except (Invitation.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such invitation.") from exc
