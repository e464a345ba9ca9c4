"""Writes for predictions: predict with a deployment's pipeline, and log each request.

The predict path stays short: a scoped lookup, the row checks, the pipeline from the
process's cache; the log of the request, with a sample of its inputs, is written after the
response has gone out (see PredictionLog). The reservoir of samples is trimmed to the
newest SAMPLES_KEPT rows per deployment now and then on write, and by a beat task.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import serving
from engine.errors import StudioError
from engine.models import Deployment, Pipeline, PredictionRequest, PredictionSample
from engine.plans import MAX_FH
from engine.services.deployments import deployment_inactive_error

logger = logging.getLogger(__name__)

SAMPLES_KEPT = 10_000
SAMPLES_PER_REQUEST = 1_000
TRIM_AFTER_ROWS = 1_000  # rows written by this process since its last trim
LOG_MAX_BUFFERED = 500  # requests
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
    if n_rows > SAMPLES_PER_REQUEST:
        indices = sorted(random.sample(range(n_rows), SAMPLES_PER_REQUEST))
    else:
        indices = list(range(n_rows))
    prediction_log._write(
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
        if n_rows > SAMPLES_PER_REQUEST:
            indices = sorted(random.sample(range(n_rows), SAMPLES_PER_REQUEST))
        else:
            indices = list(range(n_rows))
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


@dataclass
class LogEntry:
    deployment_id: int
    created_at: datetime
    n_rows: int
    horizon: int | None
    latency_ms: float
    status: int
    prepared: serving.PreparedRows | None
    predictions: list[dict] | None
    indices: list[int]
    source: str = "api"


class PredictionLog:
    """Writes request logs and input samples, now or in batches.

    With STUDIO_PREDICTION_LOG_FLUSH_S unset or 0, each request's log is one transaction,
    written as the response goes out. With a positive value, entries are buffered in the
    process and a background thread writes them every that many seconds in one
    transaction: far fewer commits under load (on SQLite, concurrent commits wait on the
    file lock), at the price of losing at most that window if the process dies.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._rows_since_trim: dict[int, int] = {}

    @property
    def interval(self) -> float:
        return float(os.environ.get("STUDIO_PREDICTION_LOG_FLUSH_S") or 0)

    def add(self, entry: LogEntry) -> None:
        if self.interval <= 0:
            self._write([entry])
            return
        with self._lock:
            self._entries.append(entry)
            full = len(self._entries) >= LOG_MAX_BUFFERED
            self._ensure_thread()
        if full:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            entries, self._entries = self._entries, []
        if entries:
            self._write(entries)
        return len(entries)

    def discard(self) -> None:
        with self._lock:
            self._entries = []

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        if self._pid is None:
            atexit.register(self.flush)
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            interval = self.interval
            # Short naps, so a changed interval takes effect soon.
            time.sleep(min(max(interval, 0.05), 1.0))
            if interval > 0 and time.monotonic() - last < interval:
                continue
            last = time.monotonic()
            try:
                self.flush()
            except Exception:
                logger.exception("could not write the prediction log")
            finally:
                connections.close_all()  # this thread's own connections
            if interval <= 0:  # buffering was switched off: nothing more will arrive
                return

    def _write(self, entries: list[LogEntry]) -> None:
        written: dict[int, int] = {}
        try:
            with transaction.atomic():
                PredictionRequest.objects.bulk_create(
                    PredictionRequest(
                        deployment_id=e.deployment_id,
                        created_at=e.created_at,
                        n_rows=e.n_rows,
                        horizon=e.horizon,
                        latency_ms=e.latency_ms,
                        status_code=e.status,
                        source=e.source,
                    )
                    for e in entries
                )
                samples = []
                for e in entries:
                    if not e.indices:
                        continue
                    records = e.prepared.records(e.indices)
                    samples.extend(
                        PredictionSample(
                            deployment_id=e.deployment_id,
                            created_at=e.created_at,
                            inputs=record,
                            prediction=_logged(e.predictions[i]),
                        )
                        for i, record in zip(e.indices, records, strict=True)
                    )
                    written[e.deployment_id] = written.get(e.deployment_id, 0) + len(records)
                PredictionSample.objects.bulk_create(samples, batch_size=1000)
        except Exception:  # the log must never cost a caller its prediction
            logger.exception("could not log %d prediction requests", len(entries))
            return
        for deployment_id, n in written.items():
            total = self._rows_since_trim.get(deployment_id, 0) + n
            if total >= TRIM_AFTER_ROWS:
                samples_trim(deployment_id=deployment_id)
                total = 0
            self._rows_since_trim[deployment_id] = total


prediction_log = PredictionLog()


def _logged(prediction: dict) -> dict:
    """A prediction as the sample keeps it: without the per-class probabilities."""
    return {k: v for k, v in prediction.items() if k != "probabilities"}


def samples_trim(*, deployment_id: int | None = None, keep: int = SAMPLES_KEPT) -> int:
    """Keep the newest `keep` samples per deployment (all deployments by default)."""
    if deployment_id is None:
        ids = list(
            PredictionSample.objects.order_by().values_list("deployment_id", flat=True).distinct()
        )
    else:
        ids = [deployment_id]
    deleted = 0
    for dep_id in ids:
        boundary = list(
            PredictionSample.objects.filter(deployment_id=dep_id)
            .order_by("-id")
            .values_list("id", flat=True)[keep : keep + 1]
        )
        if boundary:
            count, _ = PredictionSample.objects.filter(
                deployment_id=dep_id, id__lte=boundary[0]
            ).delete()
            deleted += count
    return deleted
