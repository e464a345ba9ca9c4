"""API routes for experiments."""

from django.core.exceptions import ValidationError
from ninja import Router

from accounts.access import require
from engine.api.projects import api_error
from engine.schemas.experiments import ExperimentIn, ExperimentOut
from engine.selectors import dataset_get, experiment_get, experiment_list, project_get
from engine.services.experiments import experiment_create

router = Router(tags=["experiments"])


@router.post("/projects/{project_id}/experiments", response={201: ExperimentOut})
def experiments_create(request, project_id: int, payload: ExperimentIn):
    project = project_get(request=request, project_id=project_id)
    require(request, project.workspace, "write")
    dataset = dataset_get(request=request, dataset_id=payload.dataset_id)
    try:
        experiment = experiment_create(
            project=project,
            dataset=dataset,
            name=payload.name,
            task=payload.task,
            target=payload.target,
            setup=payload.setup,
            user=request.user,
        )
    except ValidationError as exc:
        raise api_error(exc) from exc
    return 201, experiment


@router.get("/projects/{project_id}/experiments", response=list[ExperimentOut])
def experiments_list(request, project_id: int):
    return experiment_list(project=project_get(request=request, project_id=project_id))


@router.get("/experiments/{experiment_id}", response=ExperimentOut)
def experiments_get(request, experiment_id: int):
    return experiment_get(request=request, experiment_id=experiment_id)
