"""Reads for accounts: the caller's default workspace, roles, members, invitations and the
workspace's audit log."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import Http404

from accounts.access import visible_workspaces
from accounts.models import AuditEvent, Invitation, Membership, Role, User, Workspace


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


def audit_list(
    *,
    workspace: Workspace,
    actor_id: int | None = None,
    action: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """A workspace's audit events, newest first, filtered by actor, action and days (inclusive,
    in the studio's time zone). The caller has checked that the user may read them."""
    events = AuditEvent.objects.filter(workspace=workspace).select_related("actor", "api_key")
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__date__gte=since)
    if until is not None:
        events = events.filter(created_at__date__lte=until)
    return events.order_by("-created_at", "-id")


def audit_actors(*, workspace: Workspace) -> QuerySet[User]:
    """Everyone who appears in a workspace's audit log, members who left included."""
    return User.objects.filter(auditevent__workspace=workspace).distinct().order_by("username")


def audit_actions(*, workspace: Workspace) -> list[str]:
    return list(
        AuditEvent.objects.filter(workspace=workspace)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
