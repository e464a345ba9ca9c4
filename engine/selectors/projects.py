"""Reads for projects."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Dataset, Experiment, Project


def _count_of(model) -> Subquery:
    """How many `model` rows point at the outer project: a correlated count read through the
    foreign key's index, one per listed project, instead of joining every child row."""
    counted = (
        model.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def project_list(*, request, workspace: Workspace | None = None) -> QuerySet[Project]:
    """The caller's projects, in one workspace or all visible ones, with their counts."""
    projects = scoped(request, Project.objects.all())
    if workspace is not None:
        projects = projects.filter(workspace=workspace)
    return projects.select_related("workspace").annotate(
        n_datasets=Coalesce(_count_of(Dataset), 0),
        n_experiments=Coalesce(_count_of(Experiment), 0),
    )


def project_get(*, request, project_id) -> Project:
    return get_scoped_or_404(request, Project.objects.select_related("workspace"), pk=project_id)
