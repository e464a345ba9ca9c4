"""Writes for datasets: ingest an upload into a validated Parquet copy plus the original bytes.

The upload is checked in a local temporary folder, then its original and Parquet copy are saved
to the storage (engine.storage). A failed upload leaves nothing behind: no Dataset row and no
stored file.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import quotas, storage
from engine.ingest import IngestError, Limits, ingest_file
from engine.models import Dataset, Project
from engine.uploads import MB, max_upload_bytes, too_large_message

logger = logging.getLogger(__name__)

DATASETS_DIR = storage.DATASETS_DIR
NAME_MAX = Dataset._meta.get_field("name").max_length
FILENAME_MAX = Dataset._meta.get_field("original_filename").max_length


def ingest_limits() -> Limits:
    return Limits(
        max_rows=settings.STUDIO_MAX_ROWS,
        max_columns=settings.STUDIO_MAX_COLUMNS,
        max_column_name=settings.STUDIO_MAX_COLUMN_NAME,
        max_data_bytes=settings.STUDIO_MAX_UNCOMPRESSED_MB * MB,
    )


def _extension(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    return suffix if re.fullmatch(r"[a-z0-9]{1,10}", suffix) else "bin"


def _copy_to(file: File, destination: Path) -> None:
    """Stream the upload to `destination` without holding it in memory."""
    temporary = getattr(file, "temporary_file_path", None)
    if temporary is not None:
        shutil.copyfile(temporary(), destination)
        return
    if hasattr(file, "seek"):
        file.seek(0)
    with destination.open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)


def dataset_ingest(
    *,
    project: Project,
    file: File,
    filename: str,
    name: str = "",
    user: User | None = None,
    request=None,
) -> Dataset:
    """Validate, profile and store an uploaded CSV, TSV or Parquet file.

    Raises `engine.ingest.IngestError` (status 413 or 422, with a reason) for a bad file.
    On any failure, the dataset's folder is removed and no row is created.
    """
    require(request, project.workspace, "write", user=user)
    max_bytes = max_upload_bytes()
    if file.size is not None and file.size > max_bytes:
        raise IngestError(too_large_message(), status=413, code="too_large")
    # Checked on the upload's size before anything is written; the row stores that same size.
    quotas.storage_check(workspace=project.workspace, adding_bytes=file.size or 0)
    filename = Path(filename or getattr(file, "name", "") or "upload").name[:FILENAME_MAX]
    folder_rel = f"{DATASETS_DIR}/{uuid.uuid4().hex}"
    original_rel = f"{folder_rel}/original.{_extension(filename)}"
    parquet_rel = f"{folder_rel}/data.parquet"
    try:
        with storage.work_dir(prefix="upload-") as work:
            original = work / Path(original_rel).name
            _copy_to(file, original)
            result = ingest_file(
                source=original,
                filename=filename,
                parquet_out=work / Path(parquet_rel).name,
                max_bytes=max_bytes,
                limits=ingest_limits(),
            )
            storage.save_file(parquet_rel, work / Path(parquet_rel).name, move=True)
            storage.save_file(original_rel, original, move=True)
        with transaction.atomic():
            dataset = Dataset.objects.create(
                project=project,
                name=((name or "").strip() or filename)[:NAME_MAX],
                original_filename=filename,
                source_format=result.source_format,
                original_path=original_rel,
                parquet_path=parquet_rel,
                sha256=result.sha256,
                size_bytes=result.size_bytes,
                n_rows=result.n_rows,
                n_cols=result.n_cols,
                encoding=result.encoding or "",
                delimiter=result.delimiter or "",
                columns=result.columns,
                preview=result.preview,
                warnings=result.warnings,
                created_by=user,
            )
            Project.objects.filter(pk=project.pk).update(updated_at=timezone.now())
            audit_record(
                action="dataset.created",
                request=request,
                actor=user,
                workspace=project.workspace,
                target=dataset,
                metadata={
                    "name": dataset.name,
                    "project_id": project.pk,
                    "rows": dataset.n_rows,
                    "columns": dataset.n_cols,
                    "bytes": dataset.size_bytes,
                },
            )
    except BaseException:
        storage.delete_prefixes([folder_rel])
        raise
    logger.info(
        "dataset %s ingested: %s rows x %s cols", dataset.pk, dataset.n_rows, dataset.n_cols
    )
    return dataset
