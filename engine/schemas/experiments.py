"""API schemas for experiments."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from pycaret_studio.schemas import COLUMN_NAME_MAX, DESCRIPTION_MAX, LONG_NAME_MAX, Id, Text


class ExperimentIn(Schema):
    name: Text(LONG_NAME_MAX, min_length=1)
    description: Text(DESCRIPTION_MAX) = ""
    dataset_id: Id
    task: Text(32) = Field(
        ...,
        description="classification, regression, clustering, anomaly or time_series",
        examples=["time_series"],
    )
    target: Text(COLUMN_NAME_MAX) | None = Field(
        None,
        description="The column to predict: required for classification, regression and "
        "time_series (the numeric series), refused for clustering and anomaly.",
    )
    setup: dict[str, Any] | None = Field(
        None,
        description="PyCaret setup options for the task; unknown options are refused. Time "
        "series: {date_column (required), fh, fold, fold_strategy (expanding, rolling or "
        "sliding), seasonal_period, session_id}.",
        examples=[{"date_column": "month", "fh": 12, "fold": 2, "session_id": 42}],
    )


class ExperimentPatch(Schema):
    """Fields left out stay as they are. task, target and setup change only while the
    experiment has no runs (409 otherwise); setup replaces the whole set of options."""

    name: Text(LONG_NAME_MAX, min_length=1) | None = None
    description: Text(DESCRIPTION_MAX) | None = None
    task: Text(32) | None = None
    target: Text(COLUMN_NAME_MAX) | None = None
    setup: dict[str, Any] | None = None


class ExperimentOut(Schema):
    id: int
    name: str
    description: str
    project_id: int
    dataset_id: int
    task: str
    target: str | None
    setup: dict[str, Any]
    warnings: list[str]
    n_runs: int
    created_at: datetime
    archived_at: datetime | None = Field(None, description="Set while it is archived.")

    @staticmethod
    def resolve_target(obj) -> str | None:
        return obj.target or None

    @staticmethod
    def resolve_setup(obj) -> dict[str, Any]:
        return obj.setup_options

    @staticmethod
    def resolve_n_runs(obj) -> int:
        n_runs = getattr(obj, "n_runs", None)
        return n_runs if n_runs is not None else obj.runs.count()
