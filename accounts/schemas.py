"""API schemas for accounts: workspaces, members and API keys."""

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
