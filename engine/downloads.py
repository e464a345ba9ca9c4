"""File responses for what users download or see: a dataset's original, a batch's scored CSV,
a pipeline and a run's plots, streamed from the storage.

Callers check access first; these only find the file (404 when it is not there) and name it.
"""

from __future__ import annotations

import posixpath

from django.http import FileResponse, Http404, HttpResponse

from engine import storage
from engine.models import BatchPrediction, Dataset


def _open(name: str, *, missing: str):
    """The stored file open for streaming; 404 when it is not stored (or there is no name), and
    a 503 response (not a server error) when the storage cannot be reached."""
    try:
        return storage.open_file(name)
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(missing) from exc
    except storage.StorageUnavailable as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")


def _attachment(name: str, *, filename: str, content_type: str, missing: str):
    """The stored file, streamed from the storage (local or object storage)."""
    handle = _open(name, missing=missing)
    if isinstance(handle, HttpResponse):
        return handle
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


def dataset_original(dataset: Dataset) -> FileResponse:
    return _attachment(
        dataset.original_path,
        filename=dataset.original_filename,
        content_type="application/octet-stream",
        missing="The original file is missing.",
    )


def batch_output(batch: BatchPrediction) -> FileResponse:
    return _attachment(
        batch.output_path,
        filename=f"{batch.deployment.slug}-batch-{batch.pk}.csv",
        content_type="text/csv",
        missing="This batch has no output (yet).",
    )


def pipeline_filename(pipeline) -> str:
    """ "churn-v3.pkl": the name a downloaded pipeline gets."""
    from django.utils.text import slugify

    return f"{slugify(pipeline.name) or 'pipeline'}-v{pipeline.version}.pkl"


def pipeline_artifact(pipeline) -> FileResponse:
    """The pipeline's .pkl as PyCaret saved it; its sha256 is on the page to check it against."""
    return _attachment(
        pipeline.artifact_path,
        filename=pipeline_filename(pipeline),
        content_type="application/octet-stream",
        missing="The pipeline's file is missing on the server.",
    )


def run_plot(run, name: str, *, missing: str) -> FileResponse:
    """A run's plot PNG, shown inline; private to the run's readers, so cached privately."""
    from engine.selectors.runs import run_plot_name

    stored = run_plot_name(run=run, name=name)
    handle = _open(stored or "", missing=missing)
    if isinstance(handle, HttpResponse):
        return handle
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    filename = f"run-{run.pk}-{posixpath.basename(stored)}"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
