"""Reads for projects."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Project


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
