"""API schemas for the copilots: what each route takes, and the advice envelope."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import model_serializer

from copilots.models import ConsultationType
from pycaret_studio.pagination import PageQuery
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


class ConsultationsQuery(PageQuery):
    run_id: Id | None = None
    pipeline_id: Id | None = None
    dataset_id: Id | None = None
    deployment_id: Id | None = None
    type: ConsultationType | None = None


class ConsultationOut(AdviceOut):
    """A past consultation in a list: the advice envelope, its optional keys only where they
    apply (the list's own `next` stays, null on the last page)."""

    @model_serializer(mode="wrap")
    def _without_empty_optional_keys(self, handler):
        body = handler(self)
        return {k: v for k, v in body.items() if v is not None or k not in OPTIONAL_KEYS}


OPTIONAL_KEYS = frozenset(
    name for name, field in AdviceOut.model_fields.items() if not field.is_required()
)
