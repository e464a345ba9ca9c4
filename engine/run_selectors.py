"""Reads for runs: scoped lookups, event pages, files on disk and what to tell the user."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from accounts.access import get_scoped_or_404
from engine.models import Experiment, Run, RunEvent, RunStatus

VIA_EXPERIMENT = "experiment__project__workspace"
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


def run_events(*, run: Run, after: int = 0, limit: int = EVENTS_MAX) -> QuerySet[RunEvent]:
    """The run's events with seq > after, oldest first."""
    limit = max(1, min(limit, EVENTS_MAX))
    return run.events.filter(seq__gt=after).order_by("seq")[:limit]


def run_recent_events(*, run: Run, limit: int = 200) -> list[RunEvent]:
    """The newest `limit` events, oldest first (what the run page shows)."""
    return list(reversed(run.events.order_by("-seq")[:limit]))


def run_media_dir(run_id: int) -> Path:
    """Where the engine writes a run's plots and pipeline; names are server-generated."""
    return Path(settings.MEDIA_ROOT) / "runs" / str(int(run_id))


def run_plot_path(*, run: Run, name: str) -> Path | None:
    """The PNG of the run's plot `name`, if the run recorded one and it is on disk."""
    plot = next((p for p in run.plots if p.get("name") == name), None)
    if plot is None:
        return None
    filename = Path(str(plot.get("filename", ""))).name
    path = run_media_dir(run.pk) / filename
    return path if filename and path.is_file() else None


def run_is_active(run: Run) -> bool:
    return run.status in (RunStatus.QUEUED, RunStatus.RUNNING)


def run_status_detail(run: Run) -> str:
    """One plain sentence on where the run is, for the API and the page."""
    if run.status == RunStatus.QUEUED:
        if run.dispatched_at is None:
            if run.dispatch_error:
                return (
                    "Waiting for the queue: the job queue could not be reached, so this run has "
                    "not been sent to a worker yet. It is saved and will be sent automatically "
                    "when the queue is back."
                )
            return "Waiting for the queue: the run is being sent to the workers."
        return "Queued: waiting for a free worker."
    if run.status == RunStatus.RUNNING:
        if run.cancel_requested:
            return "Cancelling: the job is being stopped."
        return "Running."
    if run.status == RunStatus.SUCCEEDED:
        return "Succeeded."
    if run.status == RunStatus.FAILED:
        return f"Failed ({run.error_category or 'ENGINE'}): {run.error_message}"
    return "Cancelled."


def run_best_score(run: Run) -> tuple[str, object] | None:
    """(metric, value) of the chosen model's cross-validation row, for run lists."""
    if not run.leaderboard or not run.leaderboard_sort:
        return None
    row = next((r for r in run.leaderboard if r.get("model_id") == run.model_id), None)
    row = row or run.leaderboard[0]
    value = row.get(run.leaderboard_sort)
    return (run.leaderboard_sort, value) if value is not None else None
