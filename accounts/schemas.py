"""API schemas for accounts: workspaces, members, invitations and API keys."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, model_validator

from pycaret_studio.schemas import EMAIL_MAX, NAME_MAX, USERNAME_MAX, Id, Text

ScopeName = Literal["read", "write", "train", "deploy", "predict"]
RoleName = Literal["owner", "admin", "member", "viewer"]


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    role: str


class MemberOut(Schema):
    id: int
    user_id: int
    username: str
    email: str
    role: str


class MemberIn(Schema):
    """Invite someone by exact username or by email. The answer is the same whether or not
    anyone has that username or email."""

    username: Text(USERNAME_MAX) | None = None
    email: Text(EMAIL_MAX) | None = None
    role: RoleName = "member"

    @model_validator(mode="after")
    def _one_identifier(self):
        if not (self.username or self.email):
            raise ValueError("Give a username or an email.")
        return self


class MemberRoleIn(Schema):
    role: RoleName


class InvitationOut(Schema):
    """A workspace's pending invitation, as its owners and admins see it: by what was typed."""

    id: int
    workspace_id: int
    identifier: str
    role: str
    status: str
    invited_by: str | None
    created_at: datetime


class InvitationWorkspace(Schema):
    id: int
    name: str


class MyInvitationOut(Schema):
    """An invitation addressed to the caller, waiting for their answer."""

    id: int
    workspace: InvitationWorkspace
    role: str
    invited_by: str | None
    created_at: datetime


class ApiKeyIn(Schema):
    name: Text(NAME_MAX, min_length=1)
    workspace_id: Id | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    scopes: list[ScopeName] | None = None


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    workspace_id: int | None
    status: str
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiKeyCreatedOut(Schema):
    id: int
    name: str
    prefix: str
    token: str
    scopes: list[str]
    workspace_id: int | None
    expires_at: datetime | None
    created_at: datetime
