"""Reads for copilots: the objects they advise on (scoped), consultations, and the envelope."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet

from accounts.access import get_scoped_or_404, scoped
from copilots.models import Consultation, ConsultationType
from engine.models import Deployment

logger = logging.getLogger(__name__)

ENVELOPE_OPTIONAL = ("suggested_config", "verdict", "category", "risks", "notes")


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
) -> QuerySet[Consultation]:
    """The caller's consultations, newest first, with the filters given."""
    consultations = scoped(request, Consultation.objects.all())
    filters = {
        "run_id": run_id,
        "pipeline_id": pipeline_id,
        "dataset_id": dataset_id,
        "deployment_id": deployment_id,
        "type": type,
    }
    consultations = consultations.filter(**{k: v for k, v in filters.items() if v is not None})
    return consultations.select_related("created_by").order_by("-created_at", "-id")


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


# The deploy gate: what the latest review of a pipeline said.


def latest_review(pipeline) -> Consultation | None:
    """The newest deployment review of `pipeline` that carries a verdict (an offline answer
    after an LLM failure counts: it is a review)."""
    from copilots.verdicts import verdict_level

    reviews = Consultation.objects.filter(
        pipeline=pipeline, type=ConsultationType.DEPLOYMENT_REVIEW
    ).order_by("-created_at", "-id")
    for review in reviews[:20]:
        if verdict_level((review.advice or {}).get("verdict")) is not None:
            return review
    return None


def deploy_warning(pipeline) -> dict[str, Any] | None:
    """Why deploying `pipeline` needs a person's confirmation, or None.

    None when its latest review said APPROVE or APPROVE WITH CAVEATS. Otherwise
    `{reason, verdict, risks, consultation_id}`: reason "do_not_deploy" with the review's own
    verdict and risks, or "not_reviewed" with the rule book's checks run now (no LLM).
    """
    from copilots.facts import model_facts
    from copilots.rules.checklist import model_risks
    from copilots.rules.risks import verdict_floor
    from copilots.verdicts import verdict_level

    review = latest_review(pipeline)
    if review is not None:
        advice = review.advice or {}
        if verdict_level(advice.get("verdict")) != 2:
            return None
        risks = [r for r in advice.get("risks") or [] if r.get("severity") == "high"]
        return {
            "reason": "do_not_deploy",
            "verdict": advice["verdict"],
            "risks": risks or list(advice.get("risks") or []),
            "consultation_id": review.pk,
        }
    try:
        risks = model_risks(model_facts(pipeline.origin_run, pipeline))
    except Exception:  # unreadable training data: still a confirmation, with what is known
        logger.warning("deploy gate: checks failed for pipeline %s", pipeline.pk, exc_info=True)
        risks = []
    return {
        "reason": "not_reviewed",
        "verdict": verdict_floor(risks),
        "risks": [r for r in risks if r["severity"] != "low"],
        "consultation_id": None,
    }
