"""Reads for pipelines: scoped lookups, lists and versions."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.access import get_scoped_or_404
from engine.models import Pipeline, Project
from engine.selectors import VIA_PROJECT


def pipeline_get(*, request, pipeline_id) -> Pipeline:
    """A pipeline the caller may see; 404 for another workspace's."""
    return get_scoped_or_404(
        request,
        Pipeline.objects.select_related(
            "project__workspace", "origin_run__experiment__dataset", "promoted_by"
        ),
        workspace_field=VIA_PROJECT,
        pk=pipeline_id,
    )


def pipeline_list(*, project: Project) -> QuerySet[Pipeline]:
    return project.pipelines.select_related("promoted_by", "origin_run").annotate(
        n_deployments=Count("deployments")
    )


def pipeline_list_versions(*, pipeline: Pipeline) -> QuerySet[Pipeline]:
    """Every version of the pipeline's name in its project, newest first."""
    return (
        Pipeline.objects.filter(project_id=pipeline.project_id, name=pipeline.name)
        .select_related("origin_run")
        .order_by("-version")
    )
