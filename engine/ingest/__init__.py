"""Turn an uploaded CSV/TSV/Parquet file into a validated, profiled Parquet copy.

Plain Python with pyarrow and numpy: no Django and no PyCaret, because it runs in the web
process. The CSV is streamed block by block into the Parquet copy, and the profile is then
computed from that copy one column at a time, so peak memory stays near the size of a column
rather than a multiple of the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from engine.ingest.convert import WriteFailed
from engine.ingest.errors import IngestError, format_size
from engine.ingest.limits import Limits
from engine.ingest.profile import json_safe, profile_parquet
from engine.ingest.read import load_parquet, load_text

if TYPE_CHECKING:
    import pandas

__all__ = [
    "IngestError",
    "IngestResult",
    "Limits",
    "WriteFailed",
    "ingest_file",
    "read_parquet_frame",
]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
MIN_ROWS = 10
MIN_COLS = 2


@dataclass(frozen=True)
class IngestResult:
    n_rows: int
    n_cols: int
    columns: list[dict]
    warnings: list[str]
    sha256: str
    size_bytes: int
    source_format: str
    encoding: str | None
    delimiter: str | None
    preview: list[dict]


def ingest_file(
    *,
    source: Path,
    filename: str,
    parquet_out: Path,
    max_bytes: int,
    limits: Limits | None = None,
) -> IngestResult:
    """Validate `source`, write its normalised Parquet copy to `parquet_out` and profile it.

    `max_bytes` bounds the file as uploaded, `limits` what it decodes to. Raises IngestError
    (413 or 422) for a file that cannot become a dataset; on any failure nothing is left at
    `parquet_out`.
    """
    limits = limits or Limits()
    source, parquet_out = Path(source), Path(parquet_out)
    suffix = Path(filename).suffix.lower()
    if suffix not in (*TEXT_SUFFIXES, ".parquet"):
        raise IngestError(
            f"'{filename}' is not a supported file type; upload a .csv, .tsv, .txt or "
            ".parquet file.",
            code="unsupported_format",
        )
    size = source.stat().st_size
    if size > max_bytes:
        raise IngestError(
            f"File is {format_size(size)}; the limit is {format_size(max_bytes)}.",
            status=413,
            code="too_large",
        )
    if size == 0:
        raise IngestError("The file is empty.", code="empty_file")

    partial = parquet_out.with_name(f".{parquet_out.name}.partial")
    try:
        parquet_out.parent.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-sha256") as pool:
            digest = pool.submit(_sha256, source)  # hashlib lets go of the GIL: this overlaps
            if suffix == ".parquet":
                loaded = load_parquet(source, filename, partial, limits)
            else:
                loaded = load_text(source, filename, size, partial, limits)
            n_rows, n_cols = loaded.written.n_rows, len(loaded.plan.indices)
            _check_shape(n_rows, n_cols, loaded.source_format)
            columns, column_warnings = profile_parquet(
                partial, inf_counts=loaded.written.inf_counts, n_rows=n_rows
            )
            sha256 = digest.result()
        os.replace(partial, parquet_out)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if isinstance(exc, IngestError | WriteFailed):
            raise
        if isinstance(exc, MemoryError | pa.ArrowMemoryError):
            raise IngestError(
                "The file is too large to process.", status=413, code="too_large"
            ) from exc
        # Whatever else pyarrow or a value's conversion raises (a date past year 9999, say)
        # is about the file's contents.
        if isinstance(exc, pa.ArrowException | UnicodeError | ValueError | OverflowError):
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IngestError(f"Could not read the file: {message[:300]}") from exc
        raise
    return IngestResult(
        n_rows=n_rows,
        n_cols=n_cols,
        columns=columns,
        warnings=loaded.plan.warnings + column_warnings,
        sha256=sha256,
        size_bytes=size,
        source_format=loaded.source_format,
        encoding=loaded.encoding,
        delimiter=loaded.delimiter,
        preview=[{k: json_safe(v) for k, v in row.items()} for row in loaded.written.preview],
    )


def read_parquet_frame(path: Path) -> pandas.DataFrame:
    """Load a normalised copy back as a pandas DataFrame (timestamps in nanoseconds)."""
    table = pq.read_table(path)
    try:
        return table.to_pandas(coerce_temporal_nanoseconds=True)
    except pa.ArrowInvalid:  # a date outside pandas' nanosecond range: keep the stored unit
        return table.to_pandas()


def _check_shape(n_rows: int, n_cols: int, source_format: str) -> None:
    if n_rows == 0:
        if source_format == "parquet":
            raise IngestError("The file has columns but no data rows.", code="no_rows")
        raise IngestError("The file has a header but no data rows.", code="no_rows")
    if n_cols < MIN_COLS:
        hint = ""
        if source_format != "parquet":
            hint = " No comma, semicolon, tab or pipe separates the header into columns."
        raise IngestError(
            f"The file has {n_cols} column{'s' if n_cols != 1 else ''}; at least {MIN_COLS} "
            f"are needed.{hint}",
            code="too_few_columns",
        )
    if n_rows < MIN_ROWS:
        raise IngestError(
            f"The file has {n_rows} data row{'s' if n_rows != 1 else ''}; at least "
            f"{MIN_ROWS} are needed.",
            code="too_few_rows",
        )


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
