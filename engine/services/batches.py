"""Writes for batch scoring: store an uploaded CSV, queue it, and score it in the worker.

The CSV is read the way a dataset upload is (engine.ingest's sniffing: encodings, delimiters,
Excel's "sep=" line, decimal commas), and the scored copy escapes every cell a spreadsheet
would run as a formula. Both files live in the storage (engine.storage); they are checked and
scored in local temporary folders.
"""

from __future__ import annotations

import csv
import logging
import os
import posixpath
import re
import time
import uuid
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import serving, storage
from engine.errors import InvalidInput, StudioError, TooLarge
from engine.ingest import IngestError
from engine.ingest.sniff import TextFormat, sniff_text
from engine.models import BatchPrediction, Deployment, Pipeline, RunStatus
from engine.services.deployments import deployment_inactive_error
from engine.services.predictions import load_serving_pipeline, log_batch_chunk
from engine.uploads import max_upload_bytes, too_large_message

logger = logging.getLogger(__name__)

BATCH_CHUNK_ROWS = 2_000
BATCH_SUFFIXES = (".csv", ".txt")
# What a text file may also be, once its first bytes said UTF-8: like dataset upload does.
_FALLBACK_ENCODING = {"utf8": "cp1252", "utf-8-sig": "cp1252", "cp1252": "latin-1"}

_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
BATCH_NOT_FOR_SERIES = (
    "Batch scoring does not apply to time series: a forecast takes no input rows. Ask the "
    'deployment for a forecast with {"fh": N} instead.'
)
# The columns a scored file gets, named as PyCaret's predict_model names them.
OUTPUT_COLUMNS = {
    "classification": ("prediction_label", "prediction_score"),
    "regression": ("prediction_label",),
    "clustering": ("Cluster",),
    "anomaly": ("Anomaly", "Anomaly_Score"),
}


def escape_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula: prefix it with a quote.

    A plain number such as -1.5 or +3 is left alone: spreadsheets read it as a number,
    and quoting it would turn every negative value into text.
    """
    if value and value.startswith(FORMULA_LEADS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_file")


def _text_format(path: Path) -> TextFormat:
    try:
        return sniff_text(path, path.name, path.stat().st_size)
    except IngestError as exc:
        raise _bad_file(exc.message) from exc


def _rows(path: Path, fmt: TextFormat, encoding: str):
    handle = path.open(encoding=encoding, newline="")
    for _ in range(fmt.skip_rows):
        handle.readline()
    return handle, csv.reader(handle, delimiter=fmt.delimiter)


def _read_layout(path: Path) -> tuple[list[str], TextFormat, str, int]:
    """(header, format, encoding, data rows) of a batch file; the whole file is decoded once,
    so a file that is UTF-8 only at its start falls back to cp1252 as an upload would."""
    fmt = _text_format(path)
    encoding = fmt.python_encoding
    while True:
        try:
            handle, reader = _rows(path, fmt, encoding)
            with handle:
                header = next(reader, [])
                n_rows = sum(1 for row in reader if row)
            break
        except UnicodeDecodeError as exc:
            if encoding not in _FALLBACK_ENCODING:
                raise _bad_file("The file could not be decoded as text.") from exc
            encoding = _FALLBACK_ENCODING[encoding]
        except csv.Error as exc:
            raise _bad_file(f"The file could not be read as CSV: {exc}"[:500]) from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise _bad_file("The file is empty or has no header row.")
    return header, fmt, encoding, n_rows


def _check_batch_columns(header: list[str], pipeline: Pipeline) -> None:
    missing = [f["name"] for f in pipeline.feature_schema if f["name"] not in header]
    if missing:
        raise InvalidInput(
            f"Missing columns: {', '.join(missing)}. The file needs a header row with every "
            "feature the pipeline was trained on.",
            missing_columns=missing,
        )


def batch_submit(
    *, deployment: Deployment, upload, user: User | None, request=None
) -> BatchPrediction:
    """Store an uploaded CSV and queue its scoring (sent to the workers on commit)."""
    require(request, deployment.project.workspace, "predict", user=user)
    if deployment.pipeline.task == "time_series":
        raise InvalidInput(BATCH_NOT_FOR_SERIES, code="not_applicable")
    if not deployment.is_active:
        raise deployment_inactive_error(deployment)
    filename = os.path.basename(getattr(upload, "name", "") or "upload.csv")[:255]
    if not filename.lower().endswith(BATCH_SUFFIXES):
        raise _bad_file(f"'{filename}' is not a CSV file; upload a .csv file.")
    if upload.size > max_upload_bytes():
        raise TooLarge(too_large_message())
    if upload.size == 0:
        raise _bad_file("The file is empty.")
    input_name = f"{storage.batch_prefix(deployment.pk)}/{uuid.uuid4().hex}.csv"
    with storage.work_dir(prefix="batch-") as work:
        path = work / posixpath.basename(input_name)
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        header, *_ = _read_layout(path)
        _check_batch_columns(header, deployment.pipeline)
        storage.save_file(input_name, path, move=True)
    with transaction.atomic():
        batch = BatchPrediction.objects.create(
            deployment=deployment,
            pipeline=deployment.pipeline,
            input_filename=filename,
            input_path=input_name,
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
    from engine.tasks import batch_predict_task

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
    stem = posixpath.splitext(posixpath.basename(batch.input_path))[0]
    output = f"{storage.batch_prefix(batch.deployment_id)}/{stem}-predictions.csv"
    try:
        with (
            storage.local_copy(batch.input_path) as source,
            storage.work_dir(prefix="batch-") as work,
        ):
            scored = work / posixpath.basename(output)
            n_rows = _score_file(batch, source, scored)
            storage.save_file(output, scored, move=True)
    except StudioError as exc:
        return _batch_failed(batch_id, exc.message)
    except FileNotFoundError:
        return _batch_failed(batch_id, "The uploaded file is missing on the server.")
    except Exception as exc:
        logger.exception("batch %s failed", batch_id)
        return _batch_failed(batch_id, f"Scoring failed: {type(exc).__name__}: {exc}"[:2000])
    BatchPrediction.objects.filter(pk=batch_id, status=RunStatus.RUNNING).update(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        output_path=output,
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
    header, fmt, encoding, total = _read_layout(source)
    _check_batch_columns(header, pipeline)
    BatchPrediction.objects.filter(pk=batch.pk).update(progress_total=total, n_rows=total)
    loaded = load_serving_pipeline(pipeline=pipeline, deployment=batch.deployment)
    extra = list(OUTPUT_COLUMNS[pipeline.task])
    scored = len(extra) == 2
    numeric = [f["name"] for f in pipeline.feature_schema if f.get("kind") == "numeric"]
    done = 0
    try:
        chunks = pd.read_csv(
            source,
            sep=fmt.delimiter,
            skiprows=fmt.skip_rows,
            dtype=str,
            keep_default_na=True,
            chunksize=BATCH_CHUNK_ROWS,
            encoding=encoding,
            skipinitialspace=True,
        )
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([escape_cell(c) for c in header] + extra)
            for chunk in chunks:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                if fmt.decimal_comma:
                    for name in numeric:
                        chunk[name] = chunk[name].str.replace(",", ".", regex=False)
                cells = chunk.astype(object).where(chunk.notna(), None)
                start = done
                prepared = serving.prepare_rows(
                    cells.to_dict("records"),
                    pipeline.feature_schema,
                    max_rows=len(cells),
                    row_label=lambda i, start=start: f"Line {start + i + 2 + fmt.skip_rows}",
                )
                chunk_started = time.perf_counter()
                predictions = serving.predict(loaded, prepared.frame, task=pipeline.task)
                log_batch_chunk(
                    deployment_id=batch.deployment_id,
                    prepared=prepared,
                    predictions=predictions,
                    latency_ms=(time.perf_counter() - chunk_started) * 1000,
                )
                for row, prediction in zip(
                    cells.itertuples(index=False, name=None), predictions, strict=True
                ):
                    out = ["" if v is None else escape_cell(str(v)) for v in row]
                    out.append(escape_cell(str(prediction["label"])))
                    if scored:
                        out.append(repr(prediction["score"]))
                    writer.writerow(out)
                done += len(cells)
                BatchPrediction.objects.filter(pk=batch.pk).update(progress_done=done)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise _bad_file(f"The file could not be read as CSV: {exc}"[:500]) from exc
    return done
