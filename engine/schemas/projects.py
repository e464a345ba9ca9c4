"""API schemas for projects."""

from datetime import datetime

from ninja import Schema

from pycaret_studio.schemas import DESCRIPTION_MAX, NAME_MAX, Id, Text


class ProjectIn(Schema):
    name: Text(NAME_MAX, min_length=1)
    description: Text(DESCRIPTION_MAX) = ""
    workspace_id: Id | None = None


class ProjectPatch(Schema):
    name: Text(NAME_MAX, min_length=1) | None = None
    description: Text(DESCRIPTION_MAX) | None = None


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
