"""Reads for copilots: the objects they advise on (scoped), consultations, and the envelope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.access import get_scoped_or_404, scoped
from copilots.models import Consultation
from engine.models import Deployment

ENVELOPE_OPTIONAL = ("suggested_config", "verdict", "category", "risks", "notes")
LIST_MAX = 200


def dataset_for(*, request, dataset_id):
    from engine.selectors.datasets import dataset_get

    return dataset_get(request=request, dataset_id=dataset_id)


def run_for(*, request, run_id):
    from engine.selectors.runs import run_get

    return run_get(request=request, run_id=run_id)


def pipeline_for(*, request, pipeline_id):
    from engine.selectors.pipelines import pipeline_get

    return pipeline_get(request=request, pipeline_id=pipeline_id)


def deployment_for(*, request, deployment_id):
    return get_scoped_or_404(
        request,
        Deployment.objects.select_related(
            "project__workspace", "pipeline__origin_run__experiment__dataset"
        ),
        workspace_field="project__workspace",
        pk=deployment_id,
    )


def envelope(consultation: Consultation) -> dict[str, Any]:
    """The advice envelope of DESIGN.md §5, for the API and the pages."""
    advice = consultation.advice or {}
    body: dict[str, Any] = {
        "consultation_id": consultation.pk,
        "type": consultation.type,
        "provider": consultation.provider,
        "model": consultation.model,
        "offline": consultation.offline,
        "reasoning_summary": advice.get("reasoning_summary", ""),
        "recommendations": list(advice.get("recommendations") or []),
    }
    for key in ENVELOPE_OPTIONAL:
        if advice.get(key) is not None:
            body[key] = advice[key]
    body["created_at"] = consultation.created_at
    return body


def consultation_list(
    *,
    request,
    run_id: int | None = None,
    pipeline_id: int | None = None,
    dataset_id: int | None = None,
    deployment_id: int | None = None,
    type: str | None = None,
    limit: int = 50,
) -> QuerySet[Consultation]:
    consultations = scoped(request, Consultation.objects.all())
    filters = {
        "run_id": run_id,
        "pipeline_id": pipeline_id,
        "dataset_id": dataset_id,
        "deployment_id": deployment_id,
        "type": type,
    }
    consultations = consultations.filter(**{k: v for k, v in filters.items() if v is not None})
    return consultations.select_related("created_by").order_by("-created_at", "-id")[
        : max(1, min(limit, LIST_MAX))
    ]


# For the pages: the object has already been access-checked by the page that shows it.

OBJECT_FIELD = {
    "Dataset": "dataset",
    "Run": "run",
    "Pipeline": "pipeline",
    "Deployment": "deployment",
}


def consultations_of(obj, *, type: str | None = None, limit: int = 10) -> list[Consultation]:
    field = OBJECT_FIELD[type_name(obj)]
    consultations = Consultation.objects.filter(**{field: obj}).select_related("created_by")
    if type is not None:
        consultations = consultations.filter(type=type)
    return list(consultations.order_by("-created_at", "-id")[:limit])


def type_name(obj) -> str:
    return obj.__class__.__name__


def object_workspace(obj):
    """The workspace of a dataset, run, pipeline or deployment, for the access check."""
    project = getattr(obj, "project", None)
    if project is None:
        project = obj.experiment.project  # a Run
    return project.workspace
