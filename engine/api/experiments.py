"""API routes for experiments."""

from ninja import Router

from engine.schemas.experiments import ExperimentIn, ExperimentOut, ExperimentPatch
from engine.selectors.datasets import dataset_get
from engine.selectors.experiments import experiment_get, experiment_list
from engine.selectors.projects import project_get
from engine.services import experiments
from pycaret_studio.schemas import Id

router = Router(tags=["experiments"])


@router.post("/projects/{project_id}/experiments", response={201: ExperimentOut})
def experiments_create(request, project_id: Id, payload: ExperimentIn):
    project = project_get(request=request, project_id=project_id)
    experiment = experiments.experiment_create(
        project=project,
        dataset=dataset_get(request=request, dataset_id=payload.dataset_id),
        name=payload.name,
        task=payload.task,
        target=payload.target,
        setup=payload.setup,
        description=payload.description,
        user=request.user,
        request=request,
    )
    return 201, experiment


@router.get("/projects/{project_id}/experiments", response=list[ExperimentOut])
def experiments_list(request, project_id: Id):
    return experiment_list(project=project_get(request=request, project_id=project_id))


@router.get("/experiments/{experiment_id}", response=ExperimentOut)
def experiments_get(request, experiment_id: Id):
    return experiment_get(request=request, experiment_id=experiment_id)


@router.patch("/experiments/{experiment_id}", response=ExperimentOut)
def experiments_update(request, experiment_id: Id, payload: ExperimentPatch):
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    sent = payload.model_dump(exclude_unset=True)
    changes = {key: sent[key] for key in ("task", "target", "setup") if key in sent}
    return experiments.experiment_update(
        experiment=experiment,
        name=sent.get("name"),
        description=sent.get("description"),
        setup_changes=changes or None,
        user=request.user,
        request=request,
    )
