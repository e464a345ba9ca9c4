"""API schemas for projects."""

from datetime import datetime

from ninja import Field, Schema


class ProjectIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = ""
    workspace_id: int | None = None


class ProjectPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = None


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    workspace_id: int
    n_datasets: int
    n_experiments: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_n_datasets(obj) -> int:
        n = getattr(obj, "n_datasets", None)
        return n if n is not None else obj.datasets.count()

    @staticmethod
    def resolve_n_experiments(obj) -> int:
        n = getattr(obj, "n_experiments", None)
        return n if n is not None else obj.experiments.count()
