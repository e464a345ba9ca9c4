"""API routes for experiments."""

from ninja import Query, Router

from engine.schemas.experiments import ExperimentIn, ExperimentOut, ExperimentPatch
from engine.selectors.datasets import dataset_get
from engine.selectors.experiments import experiment_get, experiment_list
from engine.selectors.projects import project_get
from engine.services import archive, experiments
from pycaret_studio.pagination import PageQuery, paged, paginate
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


@router.get("/projects/{project_id}/experiments", response=paged(ExperimentOut))
def experiments_list(request, project_id: Id, page: Query[PageQuery], archived: bool = False):
    """The project's experiments, newest first; archived ones too with ?archived=true."""
    project = project_get(request=request, project_id=project_id)
    experiments = experiment_list(project=project, archived=archived)
    return paginate(request, experiments.order_by("-created_at", "-id"), page)


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


@router.post("/experiments/{experiment_id}/archive", response=ExperimentOut)
def experiments_archive(request, experiment_id: Id):
    """Hide the experiment from the default lists; nothing is deleted."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    return archive.archive_set(obj=experiment, archived=True, user=request.user, request=request)


@router.post("/experiments/{experiment_id}/restore", response=ExperimentOut)
def experiments_restore(request, experiment_id: Id):
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    return archive.archive_set(obj=experiment, archived=False, user=request.user, request=request)


@router.delete("/experiments/{experiment_id}", response={204: None})
def experiments_delete(request, experiment_id: Id):
    """Deletes its runs and their pipelines too; 409 while a run is active or a live
    deployment depends on one of its runs (the deployment is named)."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    archive.object_delete(obj=experiment, user=request.user, request=request)
    return 204, None
