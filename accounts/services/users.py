"""Writes for users and workspaces: signup with its personal workspace, new workspaces, and the
workspace a user chooses as their default."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from accounts.models import Membership, Role, User, Workspace
from accounts.services.audit import audit_record
from engine.errors import InvalidInput


def _unique_workspace_slug(name: str) -> str:
    base = slugify(name)[:120] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: User) -> Workspace:
    workspace = Workspace.objects.create(name=name, slug=_unique_workspace_slug(name))
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


def _signup_refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_signup", fields={field: [(message, "invalid")]})


def signup_check(*, username: str, email: str = "") -> None:
    """Refuse a name that could be mistaken for someone's email, and an email already in use:
    invitations match an email only when exactly one user has it, so a second account with the
    same email (or a username shaped like one) would let a stranger receive someone's invitations.
    """
    if "@" in username:
        raise _signup_refused("username", "A username cannot contain '@': use an email below.")
    if User.objects.filter(email__iexact=username).exists():
        raise _signup_refused("username", "That username is not available.")
    if email and User.objects.filter(email__iexact=email).exists():
        raise _signup_refused("email", "That email address is already in use.")


@transaction.atomic
def user_signup(*, username: str, password: str, email: str = "", request=None) -> User:
    """Create a user with a personal workspace that they own."""
    email = (email or "").strip()
    signup_check(username=username, email=email)
    user = User.objects.create_user(username=username, password=password, email=email)
    workspace = workspace_create(name=f"{username}'s workspace", owner=user)
    audit_record(
        action="auth.signed_up",
        request=request,
        actor=user,
        workspace=workspace,
        target=user,
        metadata={"username": user.username, "with_email": bool(email)},
    )
    return user


def workspace_choose(*, user: User, workspace: Workspace) -> None:
    """Remember `workspace` as the user's default: their dashboard opens on it from now on.
    The caller has checked that the user can see it."""
    if user.last_workspace_id != workspace.pk:
        user.last_workspace = workspace
        user.save(update_fields=["last_workspace"])
