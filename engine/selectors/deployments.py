"""Reads for deployments: scoped lookups, history, request stats, batches and drift."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import Count, Max, QuerySet
from django.http import Http404

from accounts.access import get_scoped_or_404, may_see, scoped
from engine.models import (
    BatchPrediction,
    Deployment,
    DeploymentRevision,
    Pipeline,
    PredictionRequest,
    Project,
)
from engine.selectors import VIA_DEPLOYMENT, VIA_PROJECT

# The request figures live in engine/selectors/traffic.py (summary rows plus the log's tail).
from engine.selectors.traffic import STATS_HOURS as STATS_HOURS
from engine.selectors.traffic import TRAFFIC_DAYS as TRAFFIC_DAYS
from engine.selectors.traffic import deployment_stats as deployment_stats
from engine.selectors.traffic import deployment_traffic as deployment_traffic

DRIFT_CURRENT_ROWS = 10_000
DRIFT_REFERENCE_MAX_ROWS = 100_000
DRIFT_CACHE_S = 60


def deployment_get(*, request, slug) -> Deployment:
    """A deployment the caller may see, by slug; 404 for another workspace's."""
    return get_scoped_or_404(
        request,
        Deployment.objects.select_related("pipeline", "project__workspace"),
        workspace_field=VIA_PROJECT,
        slug=slug,
    )


def deployment_cache_key(slug: str) -> str:
    return f"deployment:{slug}"


def deployment_get_cached(*, request, slug) -> Deployment:
    """`deployment_get` for the predict path: the row (with its pipeline and workspace) is kept
    in the process's serving cache for STUDIO_SERVING_CACHE_S seconds, and whether the caller
    may see it is checked on every request, so another workspace's slug is still a 404."""
    serving_cache = caches["serving"]
    key = deployment_cache_key(slug)
    deployment = serving_cache.get(key)
    if deployment is None:
        deployment = deployment_get(request=request, slug=slug)
        serving_cache.set(key, deployment, timeout=settings.STUDIO_SERVING_CACHE_S)
    elif not may_see(request, deployment.project.workspace):
        raise Http404("No such deployment.")
    return deployment


def deployment_list(*, project: Project) -> QuerySet[Deployment]:
    return project.deployments.select_related("pipeline")


def deployment_list_visible(*, request, project: Project | None = None) -> QuerySet[Deployment]:
    """The deployments of the caller's workspaces (of one project if given), newest first."""
    found = scoped(request, Deployment.objects.all(), workspace_field=VIA_PROJECT)
    if project is not None:
        found = found.filter(project=project)
    return found.select_related("pipeline", "project__workspace").order_by("-updated_at", "-id")


def deployment_list_for_pipeline(*, pipeline: Pipeline) -> QuerySet[Deployment]:
    return pipeline.deployments.all()


def deployment_revisions(*, deployment: Deployment) -> QuerySet[DeploymentRevision]:
    """The deployment's revisions, newest first (on the deploymentrevision index)."""
    return deployment.revisions.select_related("pipeline", "created_by").order_by(
        "-created_at", "-id"
    )


def deployment_serving_stack(deployment: Deployment) -> list[int]:
    """The pipeline ids the deployment has served, as a stack: a deploy pushes a version,
    a rollback pops back to the one before. The top is what serves now."""
    stack: list[int] = []
    revisions = deployment.revisions.order_by("created_at", "id").values_list(
        "action", "pipeline_id"
    )
    for action, pipeline_id in revisions:
        if action == DeploymentRevision.Action.DEPLOY:
            if not stack or stack[-1] != pipeline_id:
                stack.append(pipeline_id)
        elif action == DeploymentRevision.Action.ROLLBACK:
            if stack:
                stack.pop()
            if not stack or stack[-1] != pipeline_id:
                stack.append(pipeline_id)
    return stack


def deployment_rollback_target(deployment: Deployment) -> Pipeline | None:
    """The version a rollback would serve: the one that served before the current one."""
    stack = deployment_serving_stack(deployment)
    if len(stack) < 2:
        return None
    return Pipeline.objects.filter(pk=stack[-2]).first()


def deployment_forecast_requests(
    *, deployment: Deployment, limit: int = 20
) -> list[PredictionRequest]:
    """The newest forecast requests of a time-series deployment (it logs no input rows)."""
    return list(deployment.prediction_requests.filter(horizon__isnull=False)[:limit])


def batch_list(*, deployment: Deployment, limit: int = 10) -> list[BatchPrediction]:
    return list(deployment.batch_predictions.select_related("pipeline")[:limit])


def batch_get(*, request, batch_id) -> BatchPrediction:
    return get_scoped_or_404(
        request,
        BatchPrediction.objects.select_related("deployment__project__workspace", "pipeline"),
        workspace_field=VIA_DEPLOYMENT,
        pk=batch_id,
    )


# Drift.


def deployment_drift_report(*, deployment: Deployment) -> dict[str, Any]:
    """The drift report: training data (reference) against the logged inputs (current).

    Prediction drift compares the logged predictions with the training target's
    distribution, which is what the model was fitted to reproduce; it needs no model load.
    """
    from engine import drift

    pipeline = deployment.pipeline
    dataset = pipeline.origin_run.experiment.dataset
    if pipeline.task == "time_series":
        return drift.not_applicable(
            reference_rows=dataset.n_rows,
            detail="A forecast takes no input rows, so there is no input drift to measure; "
            "the forecast requests are listed instead",
        )
    samples = deployment.samples.order_by("-id")
    stamp = samples.aggregate(last=Max("id"), n=Count("id"))
    current_rows = min(stamp["n"] or 0, DRIFT_CURRENT_ROWS)
    if current_rows < drift.MIN_CURRENT_ROWS:
        return drift.not_enough_data(reference_rows=dataset.n_rows, current_rows=current_rows)
    key = f"drift:{deployment.pk}:{pipeline.pk}:{stamp['last']}:{current_rows}"
    report = cache.get(key)
    if report is None:
        report = _compute_drift(pipeline, dataset, samples[:DRIFT_CURRENT_ROWS])
        cache.set(key, report, DRIFT_CACHE_S)
    return report


def _compute_drift(pipeline: Pipeline, dataset, samples) -> dict[str, Any]:
    import pandas as pd

    from engine import drift
    from engine.ingest import read_parquet_frame
    from engine.selectors.datasets import dataset_parquet_file

    with dataset_parquet_file(dataset) as path:
        reference = read_parquet_frame(path)
    if len(reference) > DRIFT_REFERENCE_MAX_ROWS:
        reference = reference.sample(n=DRIFT_REFERENCE_MAX_ROWS, random_state=0)
    rows = list(samples.values_list("inputs", "prediction"))
    current = pd.DataFrame([inputs for inputs, _ in rows])
    predictions = pd.Series(
        [p.get("label") if isinstance(p, dict) else p for _, p in rows], dtype=object
    )
    target = reference[pipeline.target] if pipeline.target in reference.columns else None
    features = [
        {"name": f["name"], "kind": f.get("kind", "numeric")} for f in pipeline.feature_schema
    ]
    for feature in features:
        if feature["kind"] == "datetime" and feature["name"] in current.columns:
            current[feature["name"]] = pd.to_datetime(current[feature["name"]], errors="coerce")
    return drift.drift_report(
        reference=reference,
        current=current,
        features=features,
        reference_predictions=target,
        current_predictions=predictions if target is not None else None,
        prediction_kind="categorical" if pipeline.task == "classification" else "numeric",
    )


# The deployment page's API examples.


def deployment_example_row(*, deployment: Deployment) -> dict[str, Any]:
    """A real input row for the API examples: the first row of the training data, with the
    pipeline's features only (JSON-safe); {} when the data cannot be read."""
    pipeline = deployment.pipeline
    if pipeline.task == "time_series":
        return {}
    key = f"example-row:{pipeline.pk}"
    row = cache.get(key)
    if row is None:
        row = _first_row(pipeline)
        cache.set(key, row, 3600)
    return row


def _first_row(pipeline: Pipeline) -> dict[str, Any]:
    import math
    from datetime import date, datetime

    import pyarrow.parquet as pq

    from engine.selectors.datasets import dataset_parquet_file

    names = [f["name"] for f in pipeline.feature_schema]
    try:
        with (
            dataset_parquet_file(pipeline.origin_run.experiment.dataset) as path,
            pq.ParquetFile(path) as source,
        ):
            columns = [n for n in names if n in source.schema_arrow.names]
            batch = next(source.iter_batches(batch_size=1, columns=columns))
            first = batch.to_pylist()[0]
    except (OSError, StopIteration, ValueError, IndexError):
        return {}
    row = {}
    for name in names:
        value = first.get(name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        elif not isinstance(value, str | int | float | bool | type(None)):
            value = str(value)
        row[name] = value
    return row
