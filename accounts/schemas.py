"""API schemas for accounts."""

from ninja import Schema


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    role: str
