"""Reads for experiments."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.access import get_scoped_or_404
from engine.models import Experiment, Project
from engine.selectors import VIA_PROJECT


def experiment_list(*, project: Project, archived: bool = False) -> QuerySet[Experiment]:
    """The project's experiments; archived ones only when asked for (then with the others)."""
    experiments = project.experiments.select_related("dataset").annotate(n_runs=Count("runs"))
    return experiments if archived else experiments.filter(archived_at__isnull=True)


def experiment_get(*, request, experiment_id) -> Experiment:
    return get_scoped_or_404(
        request,
        Experiment.objects.select_related("project__workspace", "dataset"),
        workspace_field=VIA_PROJECT,
        pk=experiment_id,
    )
