"""File responses for what users download: a dataset's original and a batch's scored CSV.

Callers check access first; these only find the file (404 when it is not there) and name it.
"""

from __future__ import annotations

from django.http import FileResponse, Http404

from engine.models import BatchPrediction, Dataset
from engine.storage import media_path


def _attachment(relative: str, *, filename: str, content_type: str, missing: str):
    path = media_path(relative) if relative else None
    if path is None or not path.is_file():
        raise Http404(missing)
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )


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
