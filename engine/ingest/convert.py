"""Map source columns to the normalised Parquet schema and stream batches into the copy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.ingest.errors import IngestError, quote_names
from engine.ingest.limits import Limits

PREVIEW_ROWS = 20
ROW_GROUP_BYTES = 16 * 2**20  # what is held in memory before each write
ROW_GROUP_ROWS = 1_000_000
# No compression: the copy is a cache for the training worker, and snappy would add a fifth
# to the ingest time (write and read back) to save a third of its size; text columns are
# dictionary-encoded anyway.
COMPRESSION = "none"


@dataclass
class ColumnPlan:
    """Which source columns to keep, under which names and types."""

    indices: list[int]
    schema: pa.Schema
    warnings: list[str] = field(default_factory=list)


@dataclass
class Written:
    n_rows: int
    inf_counts: list[int]
    preview: list[dict]


def plan_columns(source: pa.Schema, *, allow_trailing_blank: bool, limits: Limits) -> ColumnPlan:
    """Validate the header and choose a Parquet-friendly type for every column.

    `allow_trailing_blank` drops a last column with no name and no values, which is what a
    delimiter at the end of every line produces.
    """
    names = [name.strip() for name in source.names]
    limits.check_columns(names)
    indices = list(range(len(names)))
    warnings = []
    if (
        allow_trailing_blank
        and len(names) > 1
        and not names[-1]
        and pa.types.is_null(source.field(len(names) - 1).type)
    ):
        indices.pop()
        warnings.append("Dropped an unnamed, empty last column (each line ends with a delimiter).")
    hidden = [i for i in indices if _is_pandas_index(names[i])]
    if hidden:
        indices = [i for i in indices if i not in hidden]
        warnings.append("Dropped the unnamed pandas index stored with the file.")

    blank = [i + 1 for i in indices if not names[i]]
    if blank:
        where = ", ".join(str(p) for p in blank[:10])
        plural = "s" if len(blank) > 1 else ""
        raise IngestError(
            f"Empty column name at position{plural} {where}. Give every column a header.",
            code="bad_header",
        )
    seen: dict[str, int] = {}
    for i in indices:
        seen[names[i]] = seen.get(names[i], 0) + 1
    duplicates = [name for name, count in seen.items() if count > 1]
    if duplicates:
        raise IngestError(
            f"Duplicate column names: {quote_names(duplicates)}. Column names must be unique.",
            code="bad_header",
        )
    fields = [pa.field(names[i], target_type(names[i], source.field(i).type)) for i in indices]
    return ColumnPlan(indices=indices, schema=pa.schema(fields), warnings=warnings)


def _is_pandas_index(name: str) -> bool:
    return name.startswith("__index_level_") and name.endswith("__")


def target_type(name: str, t: pa.DataType) -> pa.DataType:
    """The type a column is stored as: what pandas and PyCaret read back without surprises."""
    if pa.types.is_dictionary(t):
        return target_type(name, t.value_type)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_timestamp(t):
        return t
    if pa.types.is_floating(t):
        return pa.float32() if pa.types.is_float16(t) else t
    if pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_date(t):
        return pa.timestamp("ms")  # Parquet has no second resolution: this is what it stores
    if (
        pa.types.is_null(t)
        or pa.types.is_time(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_binary_view(t)
        or pa.types.is_fixed_size_binary(t)
    ):
        return pa.string()
    raise IngestError(
        f"Column '{name}' has type {t}, which is not supported. "
        "Flatten nested or special columns into plain text or numbers first.",
        code="unsupported_type",
    )


def convert_batch(batch: pa.RecordBatch, plan: ColumnPlan, inf_counts: list[int]) -> pa.RecordBatch:
    """Cast to the plan's types; NaN and infinity become null (infinities are counted)."""
    arrays = []
    for out, i in enumerate(plan.indices):
        array = batch.column(i)
        target = plan.schema.field(out).type
        if array.type != target:
            try:
                array = pc.cast(array, target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                name = plan.schema.field(out).name
                if pa.types.is_binary(array.type) or pa.types.is_fixed_size_binary(array.type):
                    raise IngestError(
                        f"Column '{name}' holds binary data, not text.", code="unsupported_type"
                    ) from exc
                raise IngestError(
                    f"Column '{name}' could not be converted from {array.type} to {target}.",
                    code="unsupported_type",
                ) from exc
        if pa.types.is_floating(target):
            finite = pc.is_finite(array)  # null where the value is null
            n_finite = pc.sum(finite).as_py() or 0
            if n_finite < len(array) - array.null_count:
                inf_counts[out] += pc.sum(pc.is_inf(array)).as_py() or 0
                array = pc.if_else(finite, array, pa.scalar(None, target))
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=plan.schema)


def write_batches(
    batches: Iterable[pa.RecordBatch], plan: ColumnPlan, path: Path, limits: Limits
) -> Written:
    """Convert `batches` and write them in row groups of about ROW_GROUP_BYTES.

    Rows and decoded bytes are counted as they arrive, and the copy stops at the first batch
    that takes either past its limit.
    """
    inf_counts = [0] * len(plan.indices)
    preview: list[dict] = []
    n_rows = n_bytes = 0
    pending: list[pa.RecordBatch] = []
    pending_bytes = pending_rows = 0
    with _open_writer(path, plan.schema) as writer:
        for raw in batches:
            if raw.num_rows == 0:
                continue
            n_bytes += decoded_nbytes(raw)
            limits.check_rows(n_rows + raw.num_rows, exact=False)
            limits.check_data_bytes(n_bytes, exact=False)
            batch = convert_batch(raw, plan, inf_counts)
            if len(preview) < PREVIEW_ROWS:
                preview.extend(batch.slice(0, PREVIEW_ROWS - len(preview)).to_pylist())
            n_rows += batch.num_rows
            pending.append(batch)
            pending_bytes += batch.nbytes
            pending_rows += batch.num_rows
            if pending_bytes >= ROW_GROUP_BYTES or pending_rows >= ROW_GROUP_ROWS:
                _write(writer, pa.Table.from_batches(pending, schema=plan.schema))
                pending, pending_bytes, pending_rows = [], 0, 0
        if pending:
            _write(writer, pa.Table.from_batches(pending, schema=plan.schema))
    return Written(n_rows=n_rows, inf_counts=inf_counts, preview=preview)


def decoded_nbytes(batch: pa.RecordBatch) -> int:
    """What `batch` holds once decoded: a dictionary-encoded text column is counted as the text
    it expands to (from its indices and value lengths), before anything expands it."""
    total = 0
    for array in batch.columns:
        if pa.types.is_dictionary(array.type) and (
            pa.types.is_string(array.type.value_type)
            or pa.types.is_large_string(array.type.value_type)
            or pa.types.is_binary(array.type.value_type)
        ):
            lengths = pc.binary_length(array.dictionary)
            total += (pc.sum(pc.take(lengths, array.indices)).as_py() or 0) + 4 * len(array)
        else:
            total += array.nbytes
    return total


class WriteFailed(RuntimeError):
    """Writing our own copy failed (a full disk, say): a server fault, not the file's."""


def _open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    # Dictionary encoding pays off for text; on numbers pyarrow would try it, find too many
    # distinct values and fall back, which doubles the write time. Text min/max statistics
    # cost as much and help no reader of ours.
    text = [f.name for f in schema if pa.types.is_string(f.type)]
    others = [f.name for f in schema if not pa.types.is_string(f.type)]
    try:
        return pq.ParquetWriter(
            path, schema, compression=COMPRESSION, use_dictionary=text, write_statistics=others
        )
    except OSError as exc:
        raise WriteFailed(f"Could not create the Parquet copy: {exc}") from exc


def _write(writer: pq.ParquetWriter, table: pa.Table) -> None:
    try:
        writer.write_table(table, row_group_size=table.num_rows)
    except OSError as exc:
        raise WriteFailed(f"Could not write the Parquet copy: {exc}") from exc
