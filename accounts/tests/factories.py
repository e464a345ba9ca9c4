"""Test personas and logged-in clients: alice, bob and charlie each own a personal workspace."""

from __future__ import annotations

from django.test import Client

from accounts.models import User, Workspace

PASSWORD = "correct-horse-battery-staple"


def make_persona(name: str) -> User:
    """A user who signed up for real, with a personal workspace of their own."""
    from accounts.services import user_signup

    return user_signup(username=name, password=PASSWORD, email=f"{name}@example.com")


def login_client(user: User, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def workspace_of(user: User) -> Workspace:
    """The workspace the user joined first: for a persona, the personal one signup made, even
    once they belong to others (memberships otherwise sort by workspace name)."""
    return user.memberships.select_related("workspace").order_by("pk").first().workspace


def add_member(workspace: Workspace, user: User, role: str = "member", *, by: User | None = None):
    """A ready-made team: `by` (the workspace's first owner unless given) invites `user`, who
    accepts. Returns the membership. The way in for tests, as it is for people."""
    from accounts.models import Membership, Role
    from accounts.services import invitation_accept, invitation_create

    if by is None:
        by = (
            Membership.objects.filter(workspace=workspace, role=Role.OWNER)
            .order_by("pk")
            .first()
            .user
        )
    invitation = invitation_create(workspace=workspace, identifier=user.username, role=role, by=by)
    return invitation_accept(invitation=invitation, by=user)
