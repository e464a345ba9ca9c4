"""Reads for the engine. Every lookup by id goes through accounts.access, so another
workspace's object answers 404."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Count, QuerySet

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Dataset, Experiment, Project, Run

# Lookups through a project, for objects that hang off one.
VIA_PROJECT = "project__workspace"


def project_list(*, request, workspace: Workspace | None = None) -> QuerySet[Project]:
    """The caller's projects, in one workspace or all visible ones, with their counts."""
    projects = scoped(request, Project.objects.all())
    if workspace is not None:
        projects = projects.filter(workspace=workspace)
    return projects.select_related("workspace").annotate(
        n_datasets=Count("datasets", distinct=True),
        n_experiments=Count("experiments", distinct=True),
    )


def project_get(*, request, project_id) -> Project:
    return get_scoped_or_404(request, Project.objects.select_related("workspace"), pk=project_id)


def dataset_list(*, project: Project) -> QuerySet[Dataset]:
    return project.datasets.all()


def dataset_get(*, request, dataset_id) -> Dataset:
    return get_scoped_or_404(
        request,
        Dataset.objects.select_related("project__workspace"),
        workspace_field=VIA_PROJECT,
        pk=dataset_id,
    )


def experiment_list(*, project: Project) -> QuerySet[Experiment]:
    return project.experiments.select_related("dataset").annotate(n_runs=Count("runs"))


def experiment_get(*, request, experiment_id) -> Experiment:
    return get_scoped_or_404(
        request,
        Experiment.objects.select_related("project__workspace", "dataset"),
        workspace_field=VIA_PROJECT,
        pk=experiment_id,
    )


def recent_runs(*, workspace: Workspace, limit: int = 10) -> QuerySet[Run]:
    return Run.objects.filter(experiment__project__workspace=workspace).select_related(
        "experiment__project"
    )[:limit]


def media_path(relative: str) -> Path:
    """An absolute path for a server-generated path stored relative to MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative!r} is outside MEDIA_ROOT")
    return path


def dataset_original_path(dataset: Dataset) -> Path:
    return media_path(dataset.original_path)


def dataset_parquet_path(dataset: Dataset) -> Path:
    """The normalised Parquet copy: what the runner loads."""
    return media_path(dataset.parquet_path)


def dataset_class_counts(dataset: Dataset, column: str) -> dict[str, int]:
    """Rows per distinct non-missing value of `column`.

    The profile's top values are used when they are complete; otherwise only that one
    column is read from the Parquet copy.
    """
    profile = dataset.column(column) or {}
    top = profile.get("top") or []
    unique = profile.get("unique")
    if top and unique is not None and len(top) >= unique:
        return {str(item["value"]): int(item["count"]) for item in top}
    import pyarrow.parquet as pq

    values = pq.read_table(dataset_parquet_path(dataset), columns=[column]).column(0)
    return {
        str(item["values"]): int(item["counts"])
        for item in values.value_counts().to_pylist()
        if item["values"] is not None
    }
