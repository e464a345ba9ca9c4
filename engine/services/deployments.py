"""Writes for deployments: deploy, roll back, (de)activate, predict and its log, batch scoring.

The predict path stays short: a scoped lookup, the row checks, the pipeline from the
process's cache; the log of the request, with a sample of its inputs, is written after the
response has gone out (see PredictionLog). The reservoir of samples is trimmed to the
newest SAMPLES_KEPT rows per deployment now and then on write, and by a beat task.
"""

from __future__ import annotations

import atexit
import csv
import logging
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import audit_record
from engine import serving
from engine.deploy_selectors import pipeline_artifact_path, rollback_target
from engine.models import (
    BatchPrediction,
    Deployment,
    DeploymentRevision,
    Pipeline,
    PredictionRequest,
    PredictionSample,
    RunStatus,
)
from engine.selectors import media_path
from engine.services.pipelines import require_permission

logger = logging.getLogger(__name__)

SLUG_MAX_LENGTH = 80
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
SAMPLES_KEPT = 10_000
SAMPLES_PER_REQUEST = 1_000
TRIM_AFTER_ROWS = 1_000  # rows written by this process since its last trim
LOG_MAX_BUFFERED = 500  # requests
BATCH_CHUNK_ROWS = 2_000
BATCH_SUFFIXES = (".csv", ".txt")
MISMATCH_AUDIT_EVERY_S = 60
Action = DeploymentRevision.Action


class DeploymentError(Exception):
    """A deployment operation that cannot go ahead; carries the HTTP status and a code."""

    def __init__(self, message: str, *, status: int = 409, code: str = "conflict", **extra):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.extra = extra


def _slug_taken(slug: str) -> DeploymentError:
    # The same answer whoever holds the slug, so it reveals nothing about other workspaces.
    return DeploymentError(
        f"The slug '{slug}' is already taken; choose another one.", code="slug_taken"
    )


def check_slug(slug: str) -> str:
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        suggestion = slugify(slug)[:SLUG_MAX_LENGTH].strip("-")
        hint = f" For example '{suggestion}'." if suggestion else ""
        raise DeploymentError(
            f"'{slug}' is not a valid slug: use 1 to {SLUG_MAX_LENGTH} lowercase letters, "
            f"digits and hyphens, starting and ending with a letter or digit.{hint}",
            status=422,
            code="validation_error",
        )
    return slug


def _free_slug(base: str) -> str:
    base = base[: SLUG_MAX_LENGTH - 6].strip("-") or "pipeline"
    slug, n = base, 1
    while Deployment.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _warm_up_on_commit(pipeline: Pipeline) -> None:
    if not settings.STUDIO_SERVING_WARM_UP:
        return
    path, sha256 = pipeline_artifact_path(pipeline), pipeline.artifact_sha256
    transaction.on_commit(lambda: serving.warm_up_in_background(path=path, sha256=sha256))


def _revision(deployment: Deployment, pipeline: Pipeline, action: str, user) -> None:
    DeploymentRevision.objects.create(
        deployment=deployment, pipeline=pipeline, action=action, created_by=user
    )


def _audit_change(deployment, *, action, request, user, previous: Pipeline | None) -> None:
    audit_record(
        action="deployment.changed",
        request=request,
        actor=user,
        workspace=deployment.project.workspace,
        target=deployment,
        metadata={
            "action": action,
            "slug": deployment.slug,
            "pipeline_id": deployment.pipeline_id,
            "version": deployment.pipeline.version,
            "from_pipeline_id": previous.pk if previous else None,
            "from_version": previous.version if previous else None,
            "is_active": deployment.is_active,
        },
    )


def deployment_deploy(
    *, pipeline: Pipeline, user: User | None, slug: str | None = None, request=None
) -> tuple[Deployment, bool]:
    """Serve `pipeline` at `slug` (default: from its name). Returns (deployment, created).

    A slug of another project, in any workspace, is a 409. The same project's slug gets the
    new version, and the previous one stays in its history for a rollback.
    """
    project = pipeline.project
    require_permission(request=request, user=user, workspace=project.workspace, permission="deploy")
    if slug:
        slug = check_slug(slug)
    try:
        with transaction.atomic():
            deployment, created = _deploy(pipeline=pipeline, slug=slug, user=user, request=request)
    except IntegrityError as exc:  # a concurrent deploy took the slug first
        raise _slug_taken(slug or slugify(pipeline.name)) from exc
    return deployment, created


def _deploy(*, pipeline: Pipeline, slug: str | None, user, request) -> tuple[Deployment, bool]:
    project = pipeline.project
    if slug:
        existing = Deployment.objects.select_for_update().filter(slug=slug).first()
        if existing is not None and existing.project_id != project.pk:
            raise _slug_taken(slug)
    else:
        base = slugify(pipeline.name)[: SLUG_MAX_LENGTH - 6].strip("-") or "pipeline"
        # Without a slug, a new version of a deployed name goes to that name's deployment.
        existing = (
            Deployment.objects.select_for_update()
            .filter(project=project, pipeline__name=pipeline.name, slug__startswith=base)
            .order_by("created_at", "id")
            .first()
        )
        slug = existing.slug if existing is not None else _free_slug(base)
    if existing is None:
        deployment = Deployment.objects.create(
            project=project, slug=slug, pipeline=pipeline, is_active=True, created_by=user
        )
        _revision(deployment, pipeline, Action.DEPLOY, user)
        audit_record(
            action="deployment.created",
            request=request,
            actor=user,
            workspace=project.workspace,
            target=deployment,
            metadata={"slug": slug, "pipeline_id": pipeline.pk, "version": pipeline.version},
        )
        _warm_up_on_commit(pipeline)
        return deployment, True
    deployment = existing
    previous = deployment.pipeline
    if previous.pk == pipeline.pk and deployment.is_active:
        return deployment, False  # already serving this version
    deployment.pipeline = pipeline
    deployment.is_active = True
    deployment.save(update_fields=["pipeline", "is_active", "updated_at"])
    _revision(deployment, pipeline, Action.DEPLOY, user)
    _audit_change(deployment, action="deploy", request=request, user=user, previous=previous)
    _warm_up_on_commit(pipeline)
    return deployment, False


def _locked(deployment: Deployment) -> Deployment:
    return (
        Deployment.objects.select_for_update()
        .select_related("pipeline", "project__workspace")
        .get(pk=deployment.pk)
    )


def deployment_rollback(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    """Serve the version that served before the current one (one click on the page)."""
    require_permission(
        request=request, user=user, workspace=deployment.project.workspace, permission="deploy"
    )
    with transaction.atomic():
        deployment = _locked(deployment)
        target = rollback_target(deployment)
        if target is None:
            raise DeploymentError(
                f"Nothing to roll back to: '{deployment.slug}' has only served "
                f"{deployment.pipeline}.",
                code="no_previous_version",
            )
        previous = deployment.pipeline
        deployment.pipeline = target
        deployment.save(update_fields=["pipeline", "updated_at"])
        _revision(deployment, target, Action.ROLLBACK, user)
        _audit_change(deployment, action="rollback", request=request, user=user, previous=previous)
        _warm_up_on_commit(target)
    return deployment


def _set_active(deployment: Deployment, *, active: bool, user, request) -> Deployment:
    require_permission(
        request=request, user=user, workspace=deployment.project.workspace, permission="deploy"
    )
    with transaction.atomic():
        deployment = _locked(deployment)
        if deployment.is_active == active:
            return deployment
        deployment.is_active = active
        deployment.save(update_fields=["is_active", "updated_at"])
        action = Action.ACTIVATE if active else Action.DEACTIVATE
        _revision(deployment, deployment.pipeline, action, user)
        _audit_change(deployment, action=action, request=request, user=user, previous=None)
    return deployment


def deployment_deactivate(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    """Stop serving: predict answers 409 until the deployment is activated again."""
    return _set_active(deployment, active=False, user=user, request=request)


def deployment_activate(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    return _set_active(deployment, active=True, user=user, request=request)


# Serving.


def load_serving_pipeline(
    *, pipeline: Pipeline, deployment: Deployment | None = None, request=None
) -> serving.LoadedPipeline:
    """The loaded pipeline; a refused artifact is audited as `deployment.artifact_mismatch`."""
    try:
        return serving.load_pipeline(
            path=pipeline_artifact_path(pipeline), sha256=pipeline.artifact_sha256
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


def _inactive(deployment: Deployment) -> DeploymentError:
    return DeploymentError(
        f"Deployment '{deployment.slug}' is inactive, so it does not serve predictions. "
        "An admin can activate it again on its page.",
        code="inactive",
    )


def deployment_predict(
    *,
    deployment: Deployment,
    rows: Any,
    request=None,
    user: User | None = None,
    defer: Callable[[Callable[[], None]], None] | None = None,
) -> dict[str, Any]:
    """Predict `rows` with the deployment's pipeline, and log the request.

    Raises DeploymentError (409 inactive), serving.ServingError (422 bad rows, 413 too
    many rows, 409 refused artifact) and PermissionDenied without 'predict'. With `defer`,
    the log write is handed to it instead of running now (the API runs it once the
    response has been sent).
    """
    require_permission(
        request=request, user=user, workspace=deployment.project.workspace, permission="predict"
    )
    started = time.perf_counter()
    pipeline = deployment.pipeline
    n_rows = len(rows) if isinstance(rows, list) else 0
    run_log = defer or (lambda log: log())
    try:
        if not deployment.is_active:
            raise _inactive(deployment)
        prepared = serving.prepare_rows(
            rows, pipeline.feature_schema, max_rows=settings.STUDIO_MAX_PREDICT_ROWS
        )
        loaded = load_serving_pipeline(pipeline=pipeline, deployment=deployment, request=request)
        predictions = serving.predict(loaded, prepared.frame, task=pipeline.task)
    except (DeploymentError, serving.ServingError) as exc:
        run_log(partial(_log_request, deployment, n_rows, started, status=exc.status))
        raise
    except Exception:
        run_log(partial(_log_request, deployment, n_rows, started, status=500))
        raise
    latency_ms = (time.perf_counter() - started) * 1000
    run_log(
        partial(
            _log_request,
            deployment,
            n_rows,
            started,
            status=200,
            prepared=prepared,
            predictions=predictions,
            latency_ms=latency_ms,
        )
    )
    return {
        "predictions": predictions,
        "pipeline_id": pipeline.pk,
        "version": pipeline.version,
        "ignored_columns": prepared.ignored_columns,
    }


def _log_request(
    deployment: Deployment,
    n_rows: int,
    started: float,
    *,
    status: int,
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
    latency_ms: float
    status: int
    prepared: serving.PreparedRows | None
    predictions: list[dict] | None
    indices: list[int]


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
                        latency_ms=e.latency_ms,
                        status_code=e.status,
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
                            prediction=e.predictions[i],
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


# Batch scoring.

_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula: prefix it with a quote.

    A plain number such as -1.5 or +3 is left alone: spreadsheets read it as a number,
    and quoting it would turn every negative value into text.
    """
    if value and value.startswith(FORMULA_LEADS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def batch_dir(deployment_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "batch" / str(int(deployment_id))


def _relative(path: Path) -> str:
    return str(path.relative_to(Path(settings.MEDIA_ROOT)))


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_header(path: Path) -> tuple[list[str], str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            delimiter = _sniff_delimiter(first)
            header = next(csv.reader([first], delimiter=delimiter), [])
    except UnicodeDecodeError as exc:
        raise DeploymentError(
            "The file is not UTF-8 text; save it as a UTF-8 CSV.", status=422, code="bad_file"
        ) from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise DeploymentError(
            "The file is empty or has no header row.", status=422, code="bad_file"
        )
    return header, delimiter


def _check_batch_columns(header: list[str], pipeline: Pipeline) -> None:
    missing = [f["name"] for f in pipeline.feature_schema if f["name"] not in header]
    if missing:
        raise DeploymentError(
            f"Missing columns: {', '.join(missing)}. The file needs a header row with every "
            "feature the pipeline was trained on.",
            status=422,
            code="validation_error",
            missing_columns=missing,
        )


def batch_submit(
    *, deployment: Deployment, upload, user: User | None, request=None
) -> BatchPrediction:
    """Store an uploaded CSV and queue its scoring (sent to the workers on commit)."""
    require_permission(
        request=request, user=user, workspace=deployment.project.workspace, permission="predict"
    )
    if not deployment.is_active:
        raise _inactive(deployment)
    filename = os.path.basename(getattr(upload, "name", "") or "upload.csv")[:255]
    if not filename.lower().endswith(BATCH_SUFFIXES):
        raise DeploymentError(
            f"'{filename}' is not a CSV file; upload a .csv file.", status=422, code="bad_file"
        )
    limit = settings.STUDIO_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size > limit:
        raise DeploymentError(
            f"The file is larger than the limit of {settings.STUDIO_MAX_UPLOAD_MB} MB.",
            status=413,
            code="too_large",
        )
    if upload.size == 0:
        raise DeploymentError("The file is empty.", status=422, code="bad_file")
    folder = batch_dir(deployment.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        header, _ = _read_header(path)
        _check_batch_columns(header, deployment.pipeline)
    except DeploymentError:
        path.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        batch = BatchPrediction.objects.create(
            deployment=deployment,
            pipeline=deployment.pipeline,
            input_filename=filename,
            input_path=_relative(path),
            created_by=user,
        )
        audit_record(
            action="batch_prediction.submitted",
            request=request,
            actor=user,
            workspace=deployment.project.workspace,
            target=batch,
            metadata={"deployment": deployment.slug, "filename": filename},
        )
        transaction.on_commit(lambda: batch_dispatch(batch_id=batch.pk))
    return batch


def batch_dispatch(*, batch_id: int) -> bool:
    """Publish the scoring task; a broker that cannot be reached fails the batch clearly."""
    from engine.deploy_tasks import batch_predict_task

    try:
        batch_predict_task.apply_async(args=[batch_id])
    except Exception as exc:
        logger.warning("batch %s not dispatched: %s", batch_id, type(exc).__name__)
        BatchPrediction.objects.filter(pk=batch_id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error_message="The job queue could not be reached; upload the file again later.",
        )
        return False
    BatchPrediction.objects.filter(pk=batch_id).update(dispatched_at=timezone.now())
    return True


def _count_rows(path: Path, delimiter: str) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle, delimiter=delimiter)) - 1)


def batch_execute(*, batch_id: int) -> str:
    """Claim a queued batch and score its CSV in chunks, with progress. Runs in the worker."""
    now = timezone.now()
    if not BatchPrediction.objects.filter(pk=batch_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now
    ):
        return "skipped"
    batch = BatchPrediction.objects.select_related(
        "pipeline__project__workspace", "deployment"
    ).get(pk=batch_id)
    output = batch_dir(batch.deployment_id) / f"{Path(batch.input_path).stem}-predictions.csv"
    partial = output.with_name(f".{output.name}.partial")
    try:
        n_rows = _score_file(batch, media_path(batch.input_path), partial)
        os.replace(partial, output)
    except (DeploymentError, serving.ServingError) as exc:
        partial.unlink(missing_ok=True)
        return _batch_failed(batch_id, exc.message)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        logger.exception("batch %s failed", batch_id)
        return _batch_failed(batch_id, f"Scoring failed: {type(exc).__name__}: {exc}"[:2000])
    BatchPrediction.objects.filter(pk=batch_id, status=RunStatus.RUNNING).update(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        output_path=_relative(output),
        n_rows=n_rows,
        progress_done=n_rows,
    )
    return RunStatus.SUCCEEDED


def _batch_failed(batch_id: int, message: str) -> str:
    BatchPrediction.objects.filter(pk=batch_id).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error_message=message
    )
    return RunStatus.FAILED


def _score_file(batch: BatchPrediction, source: Path, target: Path) -> int:
    import pandas as pd

    pipeline = batch.pipeline
    header, delimiter = _read_header(source)
    _check_batch_columns(header, pipeline)
    total = _count_rows(source, delimiter)
    BatchPrediction.objects.filter(pk=batch.pk).update(progress_total=total, n_rows=total)
    loaded = load_serving_pipeline(pipeline=pipeline, deployment=batch.deployment)
    classification = pipeline.task == "classification"
    extra = ["prediction_label", "prediction_score"] if classification else ["prediction_label"]
    done = 0
    try:
        chunks = pd.read_csv(
            source,
            sep=delimiter,
            dtype=str,
            keep_default_na=True,
            chunksize=BATCH_CHUNK_ROWS,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([escape_cell(c) for c in header] + extra)
            for chunk in chunks:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                cells = chunk.astype(object).where(chunk.notna(), None)
                start = done
                prepared = serving.prepare_rows(
                    cells.to_dict("records"),
                    pipeline.feature_schema,
                    max_rows=len(cells),
                    row_label=lambda i, start=start: f"Line {start + i + 2}",
                )
                predictions = serving.predict(loaded, prepared.frame, task=pipeline.task)
                for row, prediction in zip(
                    cells.itertuples(index=False, name=None), predictions, strict=True
                ):
                    out = ["" if v is None else escape_cell(str(v)) for v in row]
                    out.append(escape_cell(str(prediction["label"])))
                    if classification:
                        out.append(repr(prediction["score"]))
                    writer.writerow(out)
                done += len(cells)
                BatchPrediction.objects.filter(pk=batch.pk).update(progress_done=done)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DeploymentError(f"The file could not be read as CSV: {exc}"[:500]) from exc
    return done
