"""Reads for runs: scoped lookups, lists, event pages and plot files."""

from __future__ import annotations

import posixpath

from django.db.models import QuerySet

from accounts.access import get_scoped_or_404, scoped
from accounts.models import Workspace
from engine.models import Experiment, Run, RunEvent
from engine.selectors import VIA_EXPERIMENT
from engine.storage import run_file

EVENTS_MAX = 1000  # the most one read returns (the API asks for at most 201)


def run_get(*, request, run_id) -> Run:
    """A run the caller may see; 404 for another workspace's run."""
    return get_scoped_or_404(
        request,
        Run.objects.select_related("experiment__project__workspace", "experiment__dataset"),
        workspace_field=VIA_EXPERIMENT,
        pk=run_id,
    )


def run_list(*, experiment: Experiment, archived: bool = False) -> QuerySet[Run]:
    """The experiment's runs; archived ones only when asked for (then with the others)."""
    runs = experiment.runs.defer(
        "preprocessing", "feature_schema", "model_params", "error_traceback"
    ).order_by("-queued_at", "-id")
    return runs if archived else runs.filter(archived_at__isnull=True)


# Columns the lists never show: left out of their queries.
LIST_DEFERRED = ("preprocessing", "feature_schema", "model_params", "error_traceback", "summary")


def run_list_visible(*, request) -> QuerySet[Run]:
    """Every run in the caller's workspaces, newest first (the Runs page); not archived ones."""
    runs = Run.objects.filter(archived_at__isnull=True, experiment__archived_at__isnull=True)
    return (
        scoped(request, runs, workspace_field=VIA_EXPERIMENT)
        .select_related("experiment__project__workspace", "created_by")
        .defer(*LIST_DEFERRED)
        .order_by("-queued_at", "-id")
    )


def run_list_recent(*, workspace: Workspace, limit: int = 10) -> QuerySet[Run]:
    runs = Run.objects.filter(
        experiment__project__workspace=workspace,
        archived_at__isnull=True,
        experiment__archived_at__isnull=True,
    )
    # Only what the dashboard shows, read through the run_recent index (newest first).
    return (
        runs.select_related("experiment__project")
        .only(
            "plan",
            "status",
            "queued_at",
            "experiment__name",
            "experiment__project__name",
            "experiment__project__workspace_id",
        )
        .order_by("-queued_at", "-id")[:limit]
    )


def run_events(*, run: Run, after: int = 0, limit: int = EVENTS_MAX) -> QuerySet[RunEvent]:
    """The run's events with seq > after, oldest first."""
    limit = max(1, min(limit, EVENTS_MAX))
    return run.events.filter(seq__gt=after).order_by("seq")[:limit]


def run_events_recent(*, run: Run, limit: int = 200) -> list[RunEvent]:
    """The newest `limit` events, oldest first (what the run page shows)."""
    return list(reversed(run.events.order_by("-seq")[:limit]))


def run_plot_name(*, run: Run, name: str) -> str | None:
    """The storage name of the PNG of the run's plot `name`, if the run recorded one."""
    plot = next((p for p in run.plots if p.get("name") == name), None)
    if plot is None:
        return None
    try:
        return run_file(run.pk, posixpath.basename(str(plot.get("filename", ""))))
    except ValueError:
        return None


# The experiment page's runs table: every metric of the task as a column, sortable by any of
# them, filterable by status, plan kind and model. Filters, the created and duration orders and
# the page's slice run in the database; a metric lives in a JSON leaderboard row, so a metric
# sort reads the filtered runs' leaderboards and sorts in Python. Either way the number of
# queries does not depend on the number of runs.

TABLE_PER_PAGE = 25
SORT_FIXED = ("created", "duration")


def run_cv_scores(run: Run) -> dict:
    """The chosen model's cross-validated row of the run's leaderboard (the scores its run
    list shows); empty for a run that trained nothing."""
    if not run.leaderboard:
        return {}
    row = next((r for r in run.leaderboard if r.get("model_id") == run.model_id), None)
    return row or run.leaderboard[0]


def run_seconds(run: Run) -> float | None:
    if run.started_at is None:
        return None
    from django.utils import timezone

    end = run.finished_at or timezone.now()
    return max(0.0, (end - run.started_at).total_seconds())


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if value == value else None  # NaN sorts nowhere


def _table_row(run: Run, metrics) -> dict:
    from engine.metrics import not_computed

    scores = run_cv_scores(run)
    cells = [(name, scores.get(name)) for name in metrics]
    return {
        "run": run,
        "cells": cells,
        "seconds": run_seconds(run),
        "sort_values": {
            **{n: None if not_computed(n, v) else _number(v) for n, v in cells},
            "duration": run_seconds(run),
        },
    }


def _db_order(runs: QuerySet[Run], sort: str, direction: str) -> QuerySet[Run]:
    """`runs` by creation or duration; a run that never started has no duration and comes
    last either way; ties stay newest first."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    if sort == "created":
        return runs.order_by(
            *(("queued_at", "id") if direction == "asc" else ("-queued_at", "-id"))
        )
    runs = runs.annotate(duration=Coalesce("finished_at", Value(timezone.now())) - F("started_at"))
    key = (
        F("duration").asc(nulls_last=True)
        if direction == "asc"
        else F("duration").desc(nulls_last=True)
    )
    return runs.order_by(key, "-queued_at", "-id")


def run_table(*, experiment: Experiment, params, archived: bool = False) -> dict:
    """The rows, columns, filters and page of the experiment's runs table for the query
    `params` (sort, dir, status, kind, model, page). Unknown values fall back to the default:
    newest first, unfiltered. Archived runs are left out unless `archived`."""
    from django.core.paginator import Paginator
    from django.db.models import Count, Q

    from engine.capabilities import plan_kinds
    from engine.metrics import higher_is_better, task_metrics
    from engine.models import RunStatus

    metrics = task_metrics(experiment.task)
    base = experiment.runs.all() if archived else experiment.runs.filter(archived_at__isnull=True)
    counts = base.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))),
    )
    models = list(
        base.exclude(model_id="").order_by("model_id").values_list("model_id", flat=True).distinct()
    )
    kinds = plan_kinds(experiment.task)
    chosen = {
        "status": params.get("status", "") if params.get("status") in RunStatus.values else "",
        "kind": params.get("kind", "") if params.get("kind") in kinds else "",
        "model": params.get("model", "") if params.get("model") in models else "",
    }
    sort = params.get("sort", "")
    sort = sort if sort in SORT_FIXED or sort in metrics else "created"
    direction = params.get("dir", "")
    if direction not in ("asc", "desc"):
        direction = "desc" if sort == "created" or higher_is_better(sort) else "asc"

    runs = base.select_related("created_by").defer(*LIST_DEFERRED)
    if chosen["status"]:
        runs = runs.filter(status=chosen["status"])
    if chosen["kind"]:
        runs = runs.filter(plan__kind=chosen["kind"])
    if chosen["model"]:
        runs = runs.filter(model_id=chosen["model"])
    if sort in SORT_FIXED:
        paginator = Paginator(_db_order(runs, sort, direction), TABLE_PER_PAGE)
        if not any(chosen.values()):
            paginator.count = counts["total"]  # known already: one query fewer
        page = paginator.get_page(params.get("page"))
        page.object_list = [_table_row(run, metrics) for run in page.object_list]
    else:
        rows = [_table_row(run, metrics) for run in runs.order_by("-queued_at", "-id")]
        present = [r for r in rows if r["sort_values"][sort] is not None]
        missing = [r for r in rows if r["sort_values"][sort] is None]  # last, either way
        present.sort(key=lambda r: r["sort_values"][sort], reverse=direction == "desc")
        page = Paginator(present + missing, TABLE_PER_PAGE).get_page(params.get("page"))
    return {
        "metrics": metrics,
        "page": page,
        "sort": sort,
        "dir": direction,
        "filters": chosen,
        "filtered": any(chosen.values()),
        "archived": archived,
        "options": {"status": RunStatus.choices, "kind": kinds, "model": models},
        "total": counts["total"],
        "any_active": bool(counts["active"]),
    }
