"""API schemas for pipelines."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema


class PromoteIn(Schema):
    name: str | None = Field(
        None,
        max_length=200,
        description="The pipeline's name; versions count up per name and project. "
        "Defaults to the experiment's name.",
    )


class FeatureOut(Schema):
    name: str
    dtype: str
    kind: str


class PipelineOut(Schema):
    id: int
    name: str
    version: int
    origin_run_id: int
    model_id: str
    model_name: str
    metrics: dict[str, Any]
    project_id: int
    task: str
    target: str | None = Field(..., description="None for clustering and anomaly detection.")
    feature_schema: list[FeatureOut]
    target_classes: list[Any]
    artifact_sha256: str
    promoted_by: str | None
    created_at: datetime
    url: str = Field(..., description="The pipeline's page.")

    @staticmethod
    def resolve_target(obj) -> str | None:
        return obj.target or None

    @staticmethod
    def resolve_promoted_by(obj) -> str | None:
        return obj.promoted_by.username if obj.promoted_by_id else None

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("pipeline_detail", args=[obj.pk])
