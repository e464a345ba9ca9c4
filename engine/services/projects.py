"""Writes for projects: create, rename, delete (with everything under the project)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.access import require
from accounts.models import User, Workspace
from accounts.services import audit_record
from copilots.models import Consultation
from engine import storage
from engine.errors import InvalidInput
from engine.models import BatchPrediction, Deployment, DeploymentRevision, Project, Run

NAME_MAX = Project._meta.get_field("name").max_length


def _name_error(message: str, code: str, *, status: int = 422) -> InvalidInput:
    return InvalidInput(message, code=code, status=status, fields={"name": [(message, code)]})


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _name_error("A project needs a name.", "required")
    if len(name) > NAME_MAX:
        raise _name_error(f"Keep the name under {NAME_MAX} characters.", "invalid")
    return name


def _duplicate(workspace: Workspace, name: str) -> InvalidInput:
    return _name_error(
        f"A project named “{name}” already exists in {workspace.name}.",
        "duplicate_name",
        status=409,
    )


def project_create(
    *,
    workspace: Workspace,
    name: str,
    description: str = "",
    user: User | None = None,
    request=None,
) -> Project:
    require(request, workspace, "write", user=user)
    name = _clean_name(name)
    if Project.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise _duplicate(workspace, name)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                workspace=workspace,
                name=name,
                description=(description or "").strip(),
                created_by=user,
            )
            audit_record(
                action="project.created",
                request=request,
                actor=user,
                workspace=workspace,
                target=project,
                metadata={"name": project.name},
            )
    except IntegrityError as exc:  # a concurrent create won the race
        raise _duplicate(workspace, name) from exc
    return project


def project_update(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    user: User | None = None,
    request=None,
) -> Project:
    """Rename a project and/or change its description; None leaves a field as it is."""
    require(request, project.workspace, "write", user=user)
    fields = ["updated_at"]
    if name is not None:
        name = _clean_name(name)
        clash = Project.objects.filter(workspace=project.workspace, name__iexact=name).exclude(
            pk=project.pk
        )
        if clash.exists():
            raise _duplicate(project.workspace, name)
        project.name = name
        fields.append("name")
    if description is not None:
        project.description = description.strip()
        fields.append("description")
    try:
        with transaction.atomic():
            project.save(update_fields=fields)
    except IntegrityError as exc:
        raise _duplicate(project.workspace, project.name) from exc
    return project


def project_delete(*, project: Project, user: User | None = None, request=None) -> None:
    """Delete a project and everything under it in one transaction, then its files.

    Its deployments are deactivated first, and everything else goes with them: datasets,
    experiments, runs and their events, pipelines, deployments with their history, prediction
    logs, samples and batches, and the consultations about any of them. Taking live endpoints
    down is a deploy decision, so a project that serves predictions needs 'deploy' as well as
    'write'. The dataset, run and batch folders are removed once the deletion has committed.
    """
    workspace = project.workspace
    require(request, workspace, "write", user=user)
    live = sorted(project.deployments.filter(is_active=True).values_list("slug", flat=True))
    if live:
        require(request, workspace, "deploy", user=user)
    with transaction.atomic():
        locked = Project.objects.select_for_update().filter(pk=project.pk)
        if not list(locked.values_list("pk", flat=True)):
            return  # a concurrent delete got there first
        folders = _project_folders(project)
        deployments = Deployment.objects.filter(project=project)
        # Deactivated in the same transaction: no reader ever sees a deleted project serving.
        live = sorted(deployments.filter(is_active=True).values_list("slug", flat=True))
        deployments.update(is_active=False)
        counts = {
            "datasets": project.datasets.count(),
            "experiments": project.experiments.count(),
            "runs": Run.objects.filter(experiment__project=project).count(),
            "pipelines": project.pipelines.count(),
            "deployments": deployments.count(),
        }
        Consultation.objects.filter(
            Q(project=project)
            | Q(dataset__project=project)
            | Q(experiment__project=project)
            | Q(run__experiment__project=project)
            | Q(pipeline__project=project)
            | Q(deployment__project=project)
        ).delete()
        # PROTECT foreign keys point from the newer rows at the older ones (a batch or a
        # revision at its pipeline, a pipeline at its run, an experiment at its dataset), so
        # they go newest first.
        BatchPrediction.objects.filter(deployment__project=project).delete()
        DeploymentRevision.objects.filter(deployment__project=project).delete()
        deployments.delete()
        project.pipelines.all().delete()
        project.experiments.all().delete()
        project.datasets.all().delete()
        audit_record(
            action="project.deleted",
            request=request,
            actor=user,
            workspace=workspace,
            target=project,
            metadata={"name": project.name, "deactivated": live, **counts},
        )
        project.delete()
        transaction.on_commit(lambda: storage.delete_prefixes(folders))


def _project_folders(project: Project) -> list[str]:
    """The storage prefixes that hold only this project's files."""
    folders = [
        storage.dataset_prefix(dataset)
        for dataset in project.datasets.only("original_path")
        if dataset.original_path
    ]
    run_ids = Run.objects.filter(experiment__project=project).values_list("pk", flat=True)
    folders += [storage.run_prefix(run_id) for run_id in run_ids]
    deployment_ids = project.deployments.values_list("pk", flat=True)
    folders += [storage.batch_prefix(deployment_id) for deployment_id in deployment_ids]
    return folders
