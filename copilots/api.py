"""API routes for the copilots, mounted at /api/v1/llm: six consultations and their list."""

from ninja import Query, Router

from accounts.access import require
from copilots import selectors
from copilots.schemas import (
    AdviceOut,
    ConsultationOut,
    ConsultationsQuery,
    DatasetIn,
    DeploymentIn,
    DesignIn,
    PipelineIn,
    RunIn,
)
from copilots.services import consult
from pycaret_studio.pagination import paged, paginate

router = Router(tags=["copilots"])


def _advise(request, *, type: str, obj, **kw) -> dict:
    require(request, selectors.object_workspace(obj), "read")
    consultation = consult(type=type, obj=obj, user=request.user, request=request, **kw)
    return selectors.envelope(consultation)


@router.post("/analyze-dataset", response=AdviceOut, exclude_none=True)
def analyze_dataset(request, payload: DatasetIn):
    dataset = selectors.dataset_for(request=request, dataset_id=payload.dataset_id)
    return _advise(request, type="dataset_analysis", obj=dataset)


@router.post("/design-experiment", response=AdviceOut, exclude_none=True)
def design_experiment(request, payload: DesignIn):
    dataset = selectors.dataset_for(request=request, dataset_id=payload.dataset_id)
    return _advise(request, type="experiment_design", obj=dataset, goal=payload.goal)


@router.post("/explain-run", response=AdviceOut, exclude_none=True)
def explain_run(request, payload: RunIn):
    run = selectors.run_for(request=request, run_id=payload.run_id)
    return _advise(request, type="run_explanation", obj=run)


@router.post("/debug-run", response=AdviceOut, exclude_none=True)
def debug_run(request, payload: RunIn):
    run = selectors.run_for(request=request, run_id=payload.run_id)
    return _advise(request, type="failure_debugging", obj=run)


@router.post("/review-deployment", response=AdviceOut, exclude_none=True)
def review_deployment(request, payload: PipelineIn):
    pipeline = selectors.pipeline_for(request=request, pipeline_id=payload.pipeline_id)
    return _advise(request, type="deployment_review", obj=pipeline)


@router.post("/analyze-drift", response=AdviceOut, exclude_none=True)
def analyze_drift(request, payload: DeploymentIn):
    deployment = selectors.deployment_for(request=request, deployment_id=payload.deployment_id)
    return _advise(request, type="drift_analysis", obj=deployment)


@router.get("/consultations", response=paged(ConsultationOut))
def consultations(request, query: Query[ConsultationsQuery]):
    """Past consultations in the caller's workspaces, newest first (filters narrow them)."""
    found = selectors.consultation_list(
        request=request,
        run_id=query.run_id,
        pipeline_id=query.pipeline_id,
        dataset_id=query.dataset_id,
        deployment_id=query.deployment_id,
        type=query.type,
    )
    return paginate(request, found, query, to_out=selectors.envelope)
