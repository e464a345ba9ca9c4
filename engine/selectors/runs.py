"""Reads for runs: scoped lookups, lists, event pages and plot files."""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Experiment, Run, RunEvent
from engine.selectors import VIA_EXPERIMENT
from engine.storage import run_media_dir

EVENTS_MAX = 1000


def run_get(*, request, run_id) -> Run:
    """A run the caller may see; 404 for another workspace's run."""
    return get_scoped_or_404(
        request,
        Run.objects.select_related("experiment__project__workspace", "experiment__dataset"),
        workspace_field=VIA_EXPERIMENT,
        pk=run_id,
    )


def run_list(*, experiment: Experiment) -> QuerySet[Run]:
    return experiment.runs.defer(
        "preprocessing", "feature_schema", "model_params", "error_traceback"
    ).order_by("-queued_at", "-id")


# Columns the lists never show: left out of their queries.
LIST_DEFERRED = ("preprocessing", "feature_schema", "model_params", "error_traceback", "summary")


def run_list_visible(*, request) -> QuerySet[Run]:
    """Every run in the caller's workspaces, newest first (the Runs page)."""
    return (
        scoped(request, Run.objects.all(), workspace_field=VIA_EXPERIMENT)
        .select_related("experiment__project__workspace", "created_by")
        .defer(*LIST_DEFERRED)
        .order_by("-queued_at", "-id")
    )


def run_list_recent(*, workspace: Workspace, limit: int = 10) -> QuerySet[Run]:
    return Run.objects.filter(experiment__project__workspace=workspace).select_related(
        "experiment__project"
    )[:limit]


def run_events(*, run: Run, after: int = 0, limit: int = EVENTS_MAX) -> QuerySet[RunEvent]:
    """The run's events with seq > after, oldest first."""
    limit = max(1, min(limit, EVENTS_MAX))
    return run.events.filter(seq__gt=after).order_by("seq")[:limit]


def run_events_recent(*, run: Run, limit: int = 200) -> list[RunEvent]:
    """The newest `limit` events, oldest first (what the run page shows)."""
    return list(reversed(run.events.order_by("-seq")[:limit]))


def run_plot_path(*, run: Run, name: str) -> Path | None:
    """The PNG of the run's plot `name`, if the run recorded one and it is on disk."""
    plot = next((p for p in run.plots if p.get("name") == name), None)
    if plot is None:
        return None
    filename = Path(str(plot.get("filename", ""))).name
    path = run_media_dir(run.pk) / filename
    return path if filename and path.is_file() else None
