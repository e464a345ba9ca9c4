"""API routes for deployments: deploy, predict, drift, history, rollback, batch scoring."""

from ninja import File, Query, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from accounts.access import require
from engine import downloads, uploads
from engine.errors import StudioError
from engine.schemas.deployments import (
    BatchOut,
    DeployIn,
    DeploymentOut,
    DriftOut,
    PredictIn,
    PredictOut,
    RevisionOut,
    StatsOut,
)
from engine.selectors.deployments import (
    batch_get,
    deployment_drift_report,
    deployment_get,
    deployment_get_cached,
    deployment_list,
    deployment_revisions,
    deployment_stats,
)
from engine.selectors.pipelines import pipeline_get
from engine.selectors.projects import project_get
from engine.services import batches, deployments, predictions
from pycaret_studio.pagination import PageQuery, paged, paginate
from pycaret_studio.schemas import Id, SlugPath

router = Router(tags=["deployments"])


@router.post("/pipelines/{pipeline_id}/deploy", response={201: DeploymentOut})
def pipelines_deploy(request, pipeline_id: Id, payload: DeployIn):
    """Serve the pipeline at a slug (needs 'deploy'); the same project's slug is updated.

    A pipeline not approved by its latest review (DO NOT DEPLOY, or no review) needs
    `acknowledge_risks: true`; without it the answer is 409 `confirmation_required`.
    """
    pipeline = pipeline_get(request=request, pipeline_id=pipeline_id)
    deployment, _ = deployments.deployment_deploy(
        pipeline=pipeline,
        slug=payload.slug,
        user=request.user,
        request=request,
        acknowledge_risks=payload.acknowledge_risks,
    )
    return 201, deployment


@router.get("/projects/{project_id}/deployments", response=paged(DeploymentOut))
def deployments_list(request, project_id: Id, page: Query[PageQuery]):
    """The project's deployments, last updated first."""
    project = project_get(request=request, project_id=project_id)
    require(request, project.workspace, "read")
    deployments = deployment_list(project=project).order_by("-updated_at", "-id")
    return paginate(request, deployments, page)


@router.get("/deployments/{slug}", response=DeploymentOut)
def deployments_get(request, slug: SlugPath):
    deployment = deployment_get(request=request, slug=slug)
    require(request, deployment.project.workspace, "read")
    return deployment


@router.post(
    "/deployments/{slug}/predict",
    response={200: PredictOut},
    url_name="deployment_predict",
)
def deployments_predict(request, slug: SlugPath, payload: PredictIn):
    """Predict rows, or forecast `fh` periods of a time series (needs 'predict'). 422 names
    missing columns and bad cells, or a bad fh; 413 above STUDIO_MAX_PREDICT_ROWS rows; 409
    when the deployment is inactive."""
    deployment = deployment_get_cached(request=request, slug=slug)
    then: list = []
    try:
        body = predictions.deployment_predict(
            deployment=deployment,
            rows=payload.rows,
            fh=payload.fh,
            request=request,
            user=request.user,
            defer=then.append,
        )
    except StudioError as exc:
        response, status = exc.body(), exc.status
    else:
        response, status = body, 200
    return _then(request, response, status=status, tasks=then)


def _then(request, body: dict, *, status: int, tasks: list):
    """The JSON response, with `tasks` run once it has been sent: Django calls a response's
    closers after the WSGI server has written the body (and before it closes the database
    connection), so the prediction log does not add to the caller's latency."""
    from pycaret_studio.api import plain_json_response

    response = plain_json_response(request, body, status=status)
    response._resource_closers.extend(tasks)
    return response


@router.get("/deployments/{slug}/drift", response=DriftOut)
def deployments_drift(request, slug: SlugPath):
    deployment = deployment_get(request=request, slug=slug)
    require(request, deployment.project.workspace, "read")
    return deployment_drift_report(deployment=deployment)


@router.get("/deployments/{slug}/stats", response=StatsOut)
def deployments_stats(request, slug: SlugPath):
    """Requests, rows, errors and p50/p95 latency over the last 24 hours."""
    deployment = deployment_get(request=request, slug=slug)
    require(request, deployment.project.workspace, "read")
    return deployment_stats(deployment=deployment)


@router.get("/deployments/{slug}/history", response=paged(RevisionOut))
def deployments_history(request, slug: SlugPath, page: Query[PageQuery]):
    """The deployment's revisions (deploys, rollbacks, ...), newest first."""
    deployment = deployment_get(request=request, slug=slug)
    require(request, deployment.project.workspace, "read")
    return paginate(request, deployment_revisions(deployment=deployment), page)


@router.post("/deployments/{slug}/rollback", response=DeploymentOut)
def deployments_rollback(request, slug: SlugPath):
    """Serve the version that served before the current one (needs 'deploy')."""
    deployment = deployment_get(request=request, slug=slug)
    return deployments.deployment_rollback(
        deployment=deployment, user=request.user, request=request
    )


@router.post("/deployments/{slug}/deactivate", response=DeploymentOut)
def deployments_deactivate(request, slug: SlugPath):
    deployment = deployment_get(request=request, slug=slug)
    return deployments.deployment_deactivate(
        deployment=deployment, user=request.user, request=request
    )


@router.post("/deployments/{slug}/activate", response=DeploymentOut)
def deployments_activate(request, slug: SlugPath):
    deployment = deployment_get(request=request, slug=slug)
    return deployments.deployment_activate(
        deployment=deployment, user=request.user, request=request
    )


@router.post("/deployments/{slug}/batch", response={202: BatchOut})
@decorate_view(uploads.reject_oversized)
def deployments_batch(request, slug: SlugPath, file: File[UploadedFile]):
    """Score a CSV in the background (needs 'predict'); poll the batch, then download."""
    deployment = deployment_get(request=request, slug=slug)
    batch = batches.batch_submit(
        deployment=deployment, upload=file, user=request.user, request=request
    )
    return 202, batch


@router.get("/batch-predictions/{batch_id}", response=BatchOut)
def batch_predictions_get(request, batch_id: Id):
    batch = batch_get(request=request, batch_id=batch_id)
    require(request, batch.deployment.project.workspace, "read")
    return batch


@router.get("/batch-predictions/{batch_id}/download")
def batch_predictions_download(request, batch_id: Id):
    batch = batch_get(request=request, batch_id=batch_id)
    require(request, batch.deployment.project.workspace, "read")
    return downloads.batch_output(batch)
