"""Writes for predictions: predict with a deployment's pipeline, and log each request.

The predict path stays short: a scoped lookup, the row checks, the pipeline from the
process's cache; the log of the request, with a sample of its inputs, is handed to the
process's buffered log once the response has gone out (engine/services/prediction_log.py).
The reservoir of samples is trimmed to the newest SAMPLES_KEPT rows per deployment now and
then on write, and by a beat task.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import serving
from engine.errors import StudioError
from engine.models import Deployment, Pipeline
from engine.plans import MAX_FH
from engine.services.deployments import deployment_inactive_error
from engine.services.prediction_log import LogEntry, prediction_log

logger = logging.getLogger(__name__)

# A batch CSV chunk keeps up to this many of its rows for the drift report; a predict request
# keeps STUDIO_PREDICTION_SAMPLE_ROWS (default 10: the log stays cheap on the hot path).
SAMPLES_PER_BATCH_CHUNK = 1_000
MISMATCH_AUDIT_EVERY_S = 60
MAX_HORIZON = MAX_FH


def load_serving_pipeline(
    *, pipeline: Pipeline, deployment: Deployment | None = None, request=None
) -> serving.LoadedPipeline:
    """The loaded pipeline; a refused artifact is audited as `deployment.artifact_mismatch`."""
    try:
        return serving.load_pipeline(
            name=pipeline.artifact_path,
            sha256=pipeline.artifact_sha256,
            task=pipeline.task,
        )
    except serving.ArtifactMismatch as exc:
        logger.error(
            "refused to load pipeline %s: sha256 %s, expected %s",
            pipeline.pk,
            exc.actual,
            exc.expected,
        )
        if cache.add(f"artifact-mismatch:{pipeline.pk}:{exc.actual}", 1, MISMATCH_AUDIT_EVERY_S):
            audit_record(
                action="deployment.artifact_mismatch",
                request=request,
                workspace=pipeline.project.workspace,
                target=deployment or pipeline,
                metadata={
                    "pipeline_id": pipeline.pk,
                    "version": pipeline.version,
                    "artifact_path": pipeline.artifact_path,
                    "expected_sha256": exc.expected,
                    "actual_sha256": exc.actual,
                },
            )
        raise


def deployment_predict(
    *,
    deployment: Deployment,
    rows: Any = None,
    fh: Any = None,
    request=None,
    user: User | None = None,
    defer: Callable[[Callable[[], None]], None] | None = None,
) -> dict[str, Any]:
    """Predict `rows` (or forecast `fh` periods, for a time series) with the deployment's
    pipeline, and log the request.

    Raises StudioError (409 inactive or a refused artifact, 422 bad rows or fh, 413 too many
    rows) and PermissionDenied without 'predict'. With `defer`, the log write is handed to it
    instead of running now (the API runs it once the response has been sent).
    """
    require(request, deployment.project.workspace, "predict", user=user)
    started = time.perf_counter()
    pipeline = deployment.pipeline
    forecasting = pipeline.task == "time_series"
    n_rows = len(rows) if isinstance(rows, list) and not forecasting else 0
    horizon = fh if forecasting and isinstance(fh, int) and not isinstance(fh, bool) else None
    log = partial(_log_request, deployment, n_rows, started, horizon=horizon)
    run_log = defer or (lambda entry: entry())
    prepared = None
    try:
        if not deployment.is_active:
            raise deployment_inactive_error(deployment)
        if forecasting:
            periods = check_horizon(fh, rows=rows, last=pipeline.origin_run.summary.get("last"))
        else:
            if fh is not None:
                raise serving.InputError(
                    "fh applies to time-series deployments only; this one predicts rows: "
                    'send {"rows": [{column: value}]}.'
                )
            prepared = serving.prepare_rows(
                rows, pipeline.feature_schema, max_rows=settings.STUDIO_MAX_PREDICT_ROWS
            )
        loaded = load_serving_pipeline(pipeline=pipeline, deployment=deployment, request=request)
        if forecasting:
            predictions = serving.forecast(loaded, periods)
        else:
            predictions = serving.predict(loaded, prepared.frame, task=pipeline.task)
    except StudioError as exc:
        run_log(partial(log, status=exc.status))
        raise
    except Exception:
        run_log(partial(log, status=500))
        raise
    latency_ms = (time.perf_counter() - started) * 1000
    run_log(
        partial(log, status=200, prepared=prepared, predictions=predictions, latency_ms=latency_ms)
    )
    return {
        "predictions": predictions,
        "pipeline_id": pipeline.pk,
        "version": pipeline.version,
        "ignored_columns": prepared.ignored_columns if prepared is not None else [],
        "warnings": (
            serving.unseen_categories(prepared, pipeline.feature_schema) if prepared else []
        ),
    }


def check_horizon(fh: Any, *, rows: Any = None, last: str | None = None) -> int:
    """The number of periods a forecast request asks for, or a 422 that says what to send."""
    after = f" after {last}" if last else ""
    if rows is not None:
        raise serving.InputError(
            "This deployment forecasts a time series, so it takes no rows: send "
            f'{{"fh": N}}, the number of periods{after} to forecast (1 to {MAX_HORIZON}).'
        )
    if fh is None:
        raise serving.InputError(
            f'Send {{"fh": N}}: the number of periods{after} to forecast (1 to {MAX_HORIZON}).'
        )
    if isinstance(fh, bool) or not isinstance(fh, int) or not 1 <= fh <= MAX_HORIZON:
        raise serving.InputError(f"fh must be a whole number from 1 to {MAX_HORIZON}, not {fh!r}.")
    return fh


def log_batch_chunk(
    *,
    deployment_id: int,
    prepared: serving.PreparedRows,
    predictions: list[dict],
    latency_ms: float,
) -> None:
    """Log one scored chunk of a batch CSV like a request (source "batch"): its rows count in
    the deployment's statistics, and a sample of them feeds the drift report."""
    n_rows = len(predictions)
    indices = _sample_indices(n_rows, SAMPLES_PER_BATCH_CHUNK)
    prediction_log.write(
        [
            LogEntry(
                deployment_id=deployment_id,
                created_at=timezone.now(),
                n_rows=n_rows,
                horizon=None,
                latency_ms=latency_ms,
                status=200,
                prepared=prepared,
                predictions=predictions,
                indices=indices,
                source="batch",
            )
        ]
    )


def _log_request(
    deployment: Deployment,
    n_rows: int,
    started: float,
    *,
    status: int,
    horizon: int | None = None,
    prepared: serving.PreparedRows | None = None,
    predictions: list[dict] | None = None,
    latency_ms: float | None = None,
) -> None:
    if latency_ms is None:
        latency_ms = (time.perf_counter() - started) * 1000
    indices: list[int] = []
    if prepared is not None and predictions is not None:
        indices = _sample_indices(n_rows, settings.STUDIO_PREDICTION_SAMPLE_ROWS)
    prediction_log.add(
        LogEntry(
            deployment_id=deployment.pk,
            created_at=timezone.now(),
            n_rows=n_rows,
            horizon=horizon,
            latency_ms=latency_ms,
            status=status,
            prepared=prepared,
            predictions=predictions,
            indices=indices,
        )
    )


def _sample_indices(n_rows: int, keep: int) -> list[int]:
    """All row positions, or `keep` of them drawn at random, in order."""
    if n_rows <= keep:
        return list(range(n_rows))
    return sorted(random.sample(range(n_rows), max(keep, 0)))
