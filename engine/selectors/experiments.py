"""Reads for experiments."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.access import get_scoped_or_404
from engine.models import Experiment, Project, Run
from engine.selectors import VIA_PROJECT


def experiment_list(*, project: Project, archived: bool = False) -> QuerySet[Experiment]:
    """The project's experiments; archived ones only when asked for (then with the others).

    Each one's run count is a correlated subquery on the run_experiment_recent index rather
    than a join grouped by every selected column (the dataset's JSON profile among them)."""
    n_runs = (
        Run.objects.filter(experiment=OuterRef("pk"))
        .order_by()
        .values("experiment")
        .annotate(n=Count("id"))
        .values("n")
    )
    experiments = (
        project.experiments.select_related("dataset")
        .defer("dataset__columns", "dataset__preview", "dataset__warnings")
        .annotate(n_runs=Coalesce(Subquery(n_runs, output_field=IntegerField()), 0))
    )
    return experiments if archived else experiments.filter(archived_at__isnull=True)


def experiment_get(*, request, experiment_id) -> Experiment:
    return get_scoped_or_404(
        request,
        Experiment.objects.select_related("project__workspace", "dataset"),
        workspace_field=VIA_PROJECT,
        pk=experiment_id,
    )
