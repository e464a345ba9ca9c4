"""Writes for memberships, and the role rules every membership change follows.

- Only owners grant, change or remove the owner role (and the admin role: admins manage members
  and viewers only, so no admin can remove a fellow admin or appoint more of them; owners decide
  who administers).
- Nobody changes their own role; anyone may leave, except the last owner.
- The last owner can be neither demoted nor removed.
"""

from __future__ import annotations

from django.db import transaction

from accounts.access import require
from accounts.models import ROLE_RANK, Membership, Role, User, Workspace
from accounts.selectors import membership_role
from accounts.services.audit import audit_record
from engine.errors import Conflict, InvalidInput, StudioError


def actor_of(request, by: User | None) -> User | None:
    """The user acting: the request's when there is one (as `require` decides), else `by`."""
    if request is not None:
        return request.user
    return by


def refuse_api_keys(request, what: str) -> None:
    """Joining and leaving change what all of a user's keys can reach: a person decides that,
    signed in, never a key (which may have leaked)."""
    if request is not None and getattr(request, "api_key", None) is not None:
        raise forbidden(f"API keys cannot {what}; sign in to the studio instead.")


def may_manage(actor_role: str | None, role: str) -> bool:
    """May someone holding `actor_role` grant `role`, or act on a member who holds it?"""
    if actor_role == Role.OWNER:
        return True
    if actor_role != Role.ADMIN:
        return False
    return ROLE_RANK[role] < ROLE_RANK[Role.ADMIN]


def forbidden(message: str) -> StudioError:
    return StudioError(message, status=403, code="forbidden")


def refuse_unless_may_manage(actor_role: str | None, role: str, what: str) -> None:
    if not may_manage(actor_role, role):
        who = "owners" if role in (Role.OWNER, Role.ADMIN) else "owners and admins"
        raise forbidden(f"Only {who} can {what} {'an' if role[0] in 'aeiou' else 'a'} {role}.")


def owner_count(workspace: Workspace) -> int:
    # Lock the owner rows so two concurrent demotions cannot both pass the check.
    owners = Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER)
    return len(list(owners))


def _last_owner(message: str) -> Conflict:
    return Conflict(message, code="last_owner")


@transaction.atomic
def member_change_role(
    *, membership: Membership, role: str, request=None, by: User | None = None
) -> Membership:
    workspace = membership.workspace
    require(request, workspace, "manage_members", user=by)
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'.", code="invalid_member")
    actor = actor_of(request, by)
    if actor is not None and membership.user_id == actor.pk:
        raise forbidden("Nobody can change their own role; ask another owner, or leave instead.")
    actor_role = membership_role(workspace=workspace, user=actor)
    refuse_unless_may_manage(actor_role, membership.role, "change the role of")
    refuse_unless_may_manage(actor_role, role, "make someone")
    if membership.role == Role.OWNER and role != Role.OWNER and owner_count(workspace) <= 1:
        raise _last_owner("The last owner cannot be demoted. Make someone else an owner first.")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="member.changed",
        request=request,
        actor=actor,
        workspace=workspace,
        target=membership,
        metadata={"user": membership.user.username, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, request=None, by: User | None = None) -> None:
    """Remove someone else. Removing yourself is leaving (`member_leave`)."""
    actor = actor_of(request, by)
    if actor is not None and membership.user_id == actor.pk:
        member_leave(workspace=membership.workspace, request=request, by=by)
        return
    workspace = membership.workspace
    require(request, workspace, "manage_members", user=by)
    refuse_unless_may_manage(
        membership_role(workspace=workspace, user=actor), membership.role, "remove"
    )
    if membership.role == Role.OWNER and owner_count(workspace) <= 1:
        raise _last_owner("The last owner cannot be removed.")
    audit_record(
        action="member.removed",
        request=request,
        actor=actor,
        workspace=workspace,
        target=membership,
        metadata={"user": membership.user.username, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def member_leave(*, workspace: Workspace, request=None, by: User | None = None) -> None:
    """The caller leaves `workspace`; every role may, except its last owner."""
    refuse_api_keys(request, "leave a workspace")
    actor = actor_of(request, by)
    membership = (
        Membership.objects.select_for_update().filter(workspace=workspace, user=actor).first()
        if actor is not None and actor.is_authenticated
        else None
    )
    if membership is None:
        raise StudioError("You are not a member of this workspace.", status=404, code="not_found")
    if membership.role == Role.OWNER and owner_count(workspace) <= 1:
        raise _last_owner("You are the last owner: make someone else an owner before you leave.")
    audit_record(
        action="member.left",
        request=request,
        actor=actor,
        workspace=workspace,
        target=membership,
        metadata={"user": actor.username, "role": membership.role},
    )
    membership.delete()
    if actor.last_workspace_id == workspace.pk:
        actor.last_workspace = None
        actor.save(update_fields=["last_workspace"])
