"""Reads for experiments."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.access import get_scoped_or_404
from engine.models import Experiment, Project
from engine.selectors import VIA_PROJECT


def experiment_list(*, project: Project) -> QuerySet[Experiment]:
    return project.experiments.select_related("dataset").annotate(n_runs=Count("runs"))


def experiment_get(*, request, experiment_id) -> Experiment:
    return get_scoped_or_404(
        request,
        Experiment.objects.select_related("project__workspace", "dataset"),
        workspace_field=VIA_PROJECT,
        pk=experiment_id,
    )
