"""Archive, restore and delete datasets, experiments and runs.

Archiving hides an object from the default lists and keeps everything; restoring shows it again.
Deleting removes the rows in one transaction and the files once it has committed, and is refused
(409, naming what is in the way) while:
- a run is queued or running (cancel it first);
- a live deployment serves, or keeps for rollback, a pipeline promoted from the run (or from
  any run of the experiment): deactivate it first;
- a dataset is used by experiments, which are named: delete those first (a dataset is the
  evidence its experiments' runs were trained on, so it never goes with them silently).
A run's pipelines go with it, and so do deactivated deployments of those pipelines with their
history, logs and batch files: the confirmation page lists them before anything is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import storage
from engine.errors import Conflict
from engine.models import (
    BatchPrediction,
    Dataset,
    Deployment,
    DeploymentRevision,
    Experiment,
    Pipeline,
    Run,
)

SHOWN = 5


def _workspace(obj):
    if isinstance(obj, Run):
        return obj.experiment.project.workspace
    return obj.project.workspace


def _label(obj) -> str:
    if isinstance(obj, Run):
        return f"run {obj.pk}"
    return f"{type(obj).__name__.lower()} “{obj.name}”"


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


@dataclass
class DeletePreview:
    """What deleting an object takes with it, and what stands in the way."""

    runs: int = 0
    pipelines: list[str] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)  # deactivated: they go too
    blockers: list[str] = field(default_factory=list)
    code: str = ""

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)


def _runs_of(obj) -> QuerySet[Run]:
    if isinstance(obj, Run):
        return Run.objects.filter(pk=obj.pk)
    if isinstance(obj, Experiment):
        return Run.objects.filter(experiment=obj)
    return Run.objects.none()


def _deployments_using(pipelines: QuerySet[Pipeline]) -> QuerySet[Deployment]:
    """Deployments that serve one of the pipelines, or keep it in their history or batches."""
    return Deployment.objects.filter(
        Q(pipeline__in=pipelines)
        | Q(revisions__pipeline__in=pipelines)
        | Q(batch_predictions__pipeline__in=pipelines)
    ).distinct()


def delete_preview(obj: Dataset | Experiment | Run) -> DeletePreview:
    preview = DeletePreview()
    if isinstance(obj, Dataset):
        used_by = list(obj.experiments.order_by("name").values_list("name", flat=True))
        if used_by:
            preview.code = "dataset_in_use"
            preview.blockers.append(
                f"The dataset “{obj.name}” is used by {len(used_by)} experiment"
                f"{'s' if len(used_by) != 1 else ''}: {_names(used_by)}. Delete "
                f"{'them' if len(used_by) != 1 else 'it'} first, or archive the dataset."
            )
        return preview
    runs = _runs_of(obj)
    preview.runs = runs.count()
    active = list(runs.filter(status__in=["queued", "running"]).values_list("pk", flat=True))
    if active:
        preview.code = "run_active"
        which = "It is" if isinstance(obj, Run) else f"Run {_names([str(pk) for pk in active])}"
        preview.blockers.append(
            f"{which} still {'queued or running' if len(active) > 1 else 'active'}: "
            "cancel it first, then delete."
        )
    run_ids = set(runs.values_list("pk", flat=True))
    pipelines = Pipeline.objects.filter(origin_run__in=runs)
    preview.pipelines = [str(p) for p in pipelines]
    for deployment in _deployments_using(pipelines).select_related("pipeline"):
        if not deployment.is_active:
            preview.deployments.append(deployment.slug)
            continue
        preview.code = preview.code or "deployment_depends"
        origin = deployment.pipeline.origin_run_id
        if origin in run_ids:
            how = f"serves {deployment.pipeline}, promoted from run {origin}"
        else:
            how = "keeps a pipeline promoted from it in its rollback history"
        preview.blockers.append(
            f"The live deployment “{deployment.slug}” {how}. Deactivate it first."
        )
    return preview


def _delete_runs(runs: QuerySet[Run]) -> list:
    """Delete runs with their pipelines and the deactivated deployments of those; returns the
    folders to remove once the transaction commits."""
    run_ids = list(runs.values_list("pk", flat=True))
    pipelines = Pipeline.objects.filter(origin_run_id__in=run_ids)
    deployments = Deployment.objects.filter(
        pk__in=list(_deployments_using(pipelines).values_list("pk", flat=True))
    )
    folders = [storage.run_prefix(pk) for pk in run_ids]
    folders += [storage.batch_prefix(pk) for pk in deployments.values_list("pk", flat=True)]
    # PROTECT keys point from the newer rows at the older ones, so they go newest first.
    BatchPrediction.objects.filter(deployment__in=deployments).delete()
    DeploymentRevision.objects.filter(deployment__in=deployments).delete()
    deployments.delete()
    pipelines.delete()
    Run.objects.filter(pk__in=run_ids).delete()
    return folders


def archive_set(
    *, obj: Dataset | Experiment | Run, archived: bool, user: User | None = None, request=None
):
    """Archive (hide from the default lists, keep everything) or restore an object."""
    workspace = _workspace(obj)
    require(request, workspace, "write", user=user)
    obj.archived_at = timezone.now() if archived else None
    obj.save(update_fields=["archived_at"])
    audit_record(
        action=f"{type(obj).__name__.lower()}.{'archived' if archived else 'restored'}",
        request=request,
        actor=user,
        workspace=workspace,
        target=obj,
    )
    return obj


def object_delete(*, obj: Dataset | Experiment | Run, user: User | None = None, request=None):
    """Delete a dataset, experiment or run (see the module's docstring for what is refused)."""
    workspace = _workspace(obj)
    require(request, workspace, "write", user=user)
    model = type(obj)
    with transaction.atomic():
        if not model.objects.select_for_update().filter(pk=obj.pk).exists():
            return  # a concurrent delete got there first
        preview = delete_preview(obj)
        if preview.blocked:
            raise Conflict(
                f"Can't delete {_label(obj)}. " + " ".join(preview.blockers), code=preview.code
            )
        if isinstance(obj, Dataset):
            folder = storage.dataset_prefix(obj)
            folders = [folder] if folder else []
        else:
            folders = _delete_runs(_runs_of(obj))
        audit_record(
            action=f"{model.__name__.lower()}.deleted",
            request=request,
            actor=user,
            workspace=workspace,
            target=obj,
            metadata={
                "name": getattr(obj, "name", str(obj)),
                "runs": preview.runs,
                "pipelines": preview.pipelines,
                "deployments": preview.deployments,
            },
        )
        obj.delete()
        transaction.on_commit(lambda: storage.delete_prefixes(folders))
