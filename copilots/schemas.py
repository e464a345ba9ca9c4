"""API schemas for the copilots: what each route takes, and the advice envelope."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from copilots.models import ConsultationType
from pycaret_studio.schemas import Id


class DatasetIn(Schema):
    dataset_id: Id


class DesignIn(Schema):
    dataset_id: Id
    goal: str | None = Field(
        None,
        max_length=500,
        description="What the experiment is for, in a sentence (for example the target).",
    )


class RunIn(Schema):
    run_id: Id


class PipelineIn(Schema):
    pipeline_id: Id


class DeploymentIn(Schema):
    deployment_id: Id


class RiskOut(Schema):
    name: str
    severity: Literal["high", "medium", "low"]
    evidence: str


class AdviceOut(Schema):
    """The advice envelope (DESIGN.md §5); optional keys appear only where they apply."""

    consultation_id: int
    type: str
    provider: str
    model: str
    offline: bool
    reasoning_summary: str
    recommendations: list[str]
    suggested_config: dict[str, Any] | None = None
    verdict: str | None = None
    category: Literal["DATA", "CONFIG", "ENGINE"] | None = None
    risks: list[RiskOut] | None = None
    notes: list[str] | None = Field(
        None, description="What the studio changed or fell back on, and why."
    )
    created_at: datetime


class ConsultationsQuery(Schema):
    run_id: Id | None = None
    pipeline_id: Id | None = None
    dataset_id: Id | None = None
    deployment_id: Id | None = None
    type: ConsultationType | None = None
    limit: int = Field(50, ge=1, le=200)
