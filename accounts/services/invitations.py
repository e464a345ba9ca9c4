"""Writes for invitations: nobody becomes a member of a workspace without accepting.

Inviting answers the same whether or not the username or email matches anyone: the invitation
is stored either way, and only a match can ever accept it. An email matches only when exactly one
user has it, and a username only exactly.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.access import require
from accounts.models import ROLE_PERMISSIONS, Invitation, Membership, Role, User, Workspace
from accounts.selectors import membership_role
from accounts.services.audit import audit_record
from accounts.services.members import (
    actor_of,
    may_manage,
    refuse_api_keys,
    refuse_unless_may_manage,
)
from engine.errors import Conflict, InvalidInput

IDENTIFIER_MAX = Invitation._meta.get_field("identifier").max_length


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_member", fields={"identifier": [(message, "")]})


def invitee_for(identifier: str) -> User | None:
    """The one user `identifier` names, or None. Anything with an '@' is an email (signup
    refuses such usernames), so a look-alike username can never catch another's invitation."""
    active = User.objects.filter(is_active=True)
    if "@" in identifier:
        matches = list(active.filter(email__iexact=identifier)[:2])
        return matches[0] if len(matches) == 1 else None
    return active.filter(username=identifier).first()


@transaction.atomic
def invitation_create(
    *, workspace: Workspace, identifier: str, role: str, request=None, by: User | None = None
) -> Invitation:
    require(request, workspace, "manage_members", user=by)
    actor = actor_of(request, by)
    identifier = (identifier or "").strip()
    if not identifier:
        raise _invalid("Give a username or an email.")
    if len(identifier) > IDENTIFIER_MAX:
        raise _invalid(f"A username or email has at most {IDENTIFIER_MAX} characters.")
    if role not in Role.values:
        raise _invalid(f"Unknown role '{role}'.")
    refuse_unless_may_manage(membership_role(workspace=workspace, user=actor), role, "invite")
    invitee = invitee_for(identifier)
    # Telling the inviter this reveals nothing: the members list already shows who is in.
    member = Membership.objects.filter(workspace=workspace, user=invitee)
    if invitee is not None and member.exists():
        raise Conflict(f"{identifier} is already a member.", code="already_member")
    # A new invitation to the same name replaces the old one (say, to correct the role).
    Invitation.objects.filter(
        workspace=workspace, identifier__iexact=identifier, status=Invitation.Status.PENDING
    ).update(status=Invitation.Status.CANCELLED, responded_at=timezone.now())
    invitation = Invitation.objects.create(
        workspace=workspace, identifier=identifier, invitee=invitee, role=role, invited_by=actor
    )
    audit_record(
        action="invitation.created",
        request=request,
        actor=actor,
        workspace=workspace,
        target=invitation,
        metadata={"identifier": identifier, "role": role},
    )
    return invitation


def _pending(invitation: Invitation) -> Invitation:
    """Lock the row and insist that it is still pending: two clicks accept once."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != Invitation.Status.PENDING:
        raise Conflict(f"This invitation was already {locked.status}.", code="invitation_closed")
    return locked


def _still_grantable(invitation: Invitation) -> bool:
    """Whoever invited must still be entitled to grant the role: an admin who was removed, or
    an owner who stepped down, no longer vouches for anyone."""
    inviter_role = membership_role(workspace=invitation.workspace, user=invitation.invited_by)
    return (
        inviter_role is not None
        and "manage_members" in ROLE_PERMISSIONS[inviter_role]
        and may_manage(inviter_role, invitation.role)
    )


def _close(invitation: Invitation, status: str) -> None:
    invitation.status = status
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, request=None, by: User | None = None
) -> Membership:
    """The invitee joins the workspace with the invitation's role."""
    refuse_api_keys(request, "accept invitations")
    actor = actor_of(request, by)
    invitation = _pending(invitation)
    if actor is None or invitation.invitee_id != actor.pk:
        raise Conflict("This invitation is not yours.", code="invitation_closed")
    if not _still_grantable(invitation):
        _close(invitation, Invitation.Status.CANCELLED)
        raise Conflict(
            "This invitation is no longer valid: whoever sent it can no longer grant that role.",
            code="invitation_closed",
        )
    membership, _ = Membership.objects.get_or_create(
        workspace=invitation.workspace, user=actor, defaults={"role": invitation.role}
    )
    _close(invitation, Invitation.Status.ACCEPTED)
    # Other invitations to the same workspace (under another name) are answered by this one.
    Invitation.objects.filter(
        workspace=invitation.workspace, invitee=actor, status=Invitation.Status.PENDING
    ).update(status=Invitation.Status.CANCELLED, responded_at=timezone.now())
    audit_record(
        action="invitation.accepted",
        request=request,
        actor=actor,
        workspace=invitation.workspace,
        target=invitation,
        metadata={"user": actor.username, "role": membership.role},
    )
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, request=None, by: User | None = None) -> None:
    refuse_api_keys(request, "decline invitations")
    actor = actor_of(request, by)
    invitation = _pending(invitation)
    if actor is None or invitation.invitee_id != actor.pk:
        raise Conflict("This invitation is not yours.", code="invitation_closed")
    _close(invitation, Invitation.Status.DECLINED)
    audit_record(
        action="invitation.declined",
        request=request,
        actor=actor,
        workspace=invitation.workspace,
        target=invitation,
        metadata={"user": actor.username, "role": invitation.role},
    )


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, request=None, by: User | None = None) -> None:
    """An owner or admin withdraws a pending invitation (an admin only one they could send)."""
    workspace = invitation.workspace
    require(request, workspace, "manage_members", user=by)
    actor = actor_of(request, by)
    refuse_unless_may_manage(
        membership_role(workspace=workspace, user=actor), invitation.role, "cancel inviting"
    )
    invitation = _pending(invitation)
    _close(invitation, Invitation.Status.CANCELLED)
    audit_record(
        action="invitation.cancelled",
        request=request,
        actor=actor,
        workspace=workspace,
        target=invitation,
        metadata={"identifier": invitation.identifier, "role": invitation.role},
    )
