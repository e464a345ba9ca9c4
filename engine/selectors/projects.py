"""Reads for projects."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Dataset, Experiment, Project


def project_list(*, request, workspace: Workspace | None = None) -> QuerySet[Project]:
    """The caller's projects, in one workspace or all visible ones, with their counts.

    Each count is a correlated subquery on its foreign-key index, so a page of projects costs
    the same whatever the projects hold (a join of both would multiply their rows)."""
    projects = scoped(request, Project.objects.all())
    if workspace is not None:
        projects = projects.filter(workspace=workspace)
    return projects.select_related("workspace").annotate(
        n_datasets=_count_of(Dataset), n_experiments=_count_of(Experiment)
    )


def _count_of(model) -> Coalesce:
    rows = (
        model.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def project_get(*, request, project_id) -> Project:
    return get_scoped_or_404(request, Project.objects.select_related("workspace"), pk=project_id)
