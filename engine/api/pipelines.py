"""API routes for pipelines: promote a run, read a pipeline, list a project's pipelines."""

from ninja import Query, Router

from accounts.access import require
from engine.schemas.pipelines import PipelineOut, PromoteIn
from engine.selectors.pipelines import pipeline_get, pipeline_list
from engine.selectors.projects import project_get
from engine.selectors.runs import run_get
from engine.services import pipelines
from pycaret_studio.pagination import PageQuery, paged, paginate
from pycaret_studio.schemas import Id

router = Router(tags=["pipelines"])


@router.post("/runs/{run_id}/promote", response={201: PipelineOut})
def runs_promote(request, run_id: Id, payload: PromoteIn):
    """Promote a succeeded run to the next version of a pipeline (needs 'write')."""
    run = run_get(request=request, run_id=run_id)
    pipeline = pipelines.pipeline_promote(
        run=run, user=request.user, name=payload.name, request=request
    )
    return 201, pipeline


@router.get("/pipelines/{pipeline_id}", response=PipelineOut)
def pipelines_get(request, pipeline_id: Id):
    pipeline = pipeline_get(request=request, pipeline_id=pipeline_id)
    require(request, pipeline.project.workspace, "read")
    return pipeline


@router.get("/projects/{project_id}/pipelines", response=paged(PipelineOut))
def pipelines_list(request, project_id: Id, page: Query[PageQuery]):
    """The project's pipelines, by name, newest version first."""
    project = project_get(request=request, project_id=project_id)
    require(request, project.workspace, "read")
    pipelines = pipeline_list(project=project).order_by("name", "-version", "-id")
    return paginate(request, pipelines, page)
