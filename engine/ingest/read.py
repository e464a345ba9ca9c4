"""Read CSV/TSV and Parquet uploads batch by batch into the normalised Parquet copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from engine.ingest.convert import ColumnPlan, Written, plan_columns, write_batches
from engine.ingest.errors import IngestError, format_size
from engine.ingest.limits import Limits
from engine.ingest.sniff import DELIMITER_NAMES, TextFormat, sniff_text

BLOCK_BYTES = 1 << 20
MAX_BLOCK_BYTES = 64 << 20
PARQUET_BATCH_ROWS = 64 * 1024
# Where pyarrow decodes non-UTF-8 text itself, we go down this list when a later part of the
# file turns out not to be UTF-8 after all.
_FALLBACK = {"utf8": "cp1252", "cp1252": "latin-1"}
_REPORTED = {"cp1252": "cp1252", "latin-1": "latin-1"}
_RAGGED = re.compile(r"Expected (\d+) columns, got (\d+)")
_CONVERSION = "CSV conversion error"


@dataclass
class Loaded:
    written: Written
    plan: ColumnPlan
    encoding: str | None = None
    delimiter: str | None = None
    source_format: str = "csv"


class _Retry(Exception):
    pass


class _NotUtf8(_Retry):
    pass


class _NeedsWholeFile(_Retry):
    """The streaming reader fixes types from the first block; a later value did not fit."""


class _RowTooLong(_Retry):
    """One record is longer than a read block."""


def load_text(source: Path, filename: str, size: int, out: Path, limits: Limits) -> Loaded:
    fmt = sniff_text(source, filename, size)
    encoding, whole_file, block = fmt.arrow_encoding, False, BLOCK_BYTES
    while True:
        try:
            loaded = _csv_pass(source, fmt, encoding, whole_file, block, out, limits)
        except _NotUtf8:
            if encoding not in _FALLBACK:
                raise IngestError("The file's text encoding could not be recognised.") from None
            encoding = _FALLBACK[encoding]
            continue
        except _NeedsWholeFile:
            whole_file = True
            continue
        except _RowTooLong:
            if block >= MAX_BLOCK_BYTES:
                raise IngestError(
                    f"A row is longer than {format_size(MAX_BLOCK_BYTES)}; check for an "
                    "unbalanced quote character.",
                    code="row_too_long",
                ) from None
            block *= 8
            continue
        reported = _REPORTED.get(encoding, fmt.encoding)
        loaded.encoding = reported
        if reported in ("cp1252", "latin-1"):
            label = "Windows-1252" if reported == "cp1252" else "ISO-8859-1"
            loaded.plan.warnings.insert(
                0,
                f"Decoded as Latin-1 ({label}) because the file is not valid UTF-8; "
                "check that accented characters look right.",
            )
        return loaded


def _csv_pass(
    source: Path,
    fmt: TextFormat,
    encoding: str,
    whole_file: bool,
    block: int,
    out: Path,
    limits: Limits,
) -> Loaded:
    read = pcsv.ReadOptions(
        use_threads=True, block_size=block, encoding=encoding, skip_rows=fmt.skip_rows
    )
    parse = pcsv.ParseOptions(
        delimiter=fmt.delimiter,
        quote_char='"',
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=True,
    )
    convert = pcsv.ConvertOptions(
        strings_can_be_null=True,
        decimal_point="," if fmt.decimal_comma else ".",
    )
    try:
        if whole_file:
            table = pcsv.read_csv(source, read, parse, convert)
            schema, batches = table.schema, table.to_batches(max_chunksize=64 * 1024)
        else:
            reader = pcsv.open_csv(source, read, parse, convert)
            schema, batches = reader.schema, reader
        if any(pa.types.is_binary(f.type) for f in schema):
            raise _NotUtf8()  # pyarrow keeps undecodable columns as bytes
        plan = plan_columns(schema, allow_trailing_blank=True, limits=limits)
        written = write_batches(batches, plan, out, limits)
    except UnicodeDecodeError as exc:
        raise _NotUtf8() from exc
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            raise _NotUtf8() from exc
        if _CONVERSION in message and not whole_file:
            raise _NeedsWholeFile() from exc
        if "straddling object" in message:
            raise _RowTooLong() from exc
        if "Empty CSV file" in message:  # one line and no newline: a header alone
            raise IngestError("The file has a header but no data rows.", code="no_rows") from None
        if _RAGGED.search(message):
            raise _ragged_error(source, fmt, encoding, message) from None
        raise IngestError(f"Could not read the file as CSV: {_first_line(message)}") from None
    source_format = "tsv" if fmt.delimiter == "\t" else "csv"
    return Loaded(written, plan, delimiter=fmt.delimiter, source_format=source_format)


def _ragged_error(source: Path, fmt: TextFormat, encoding: str, message: str) -> IngestError:
    """Name the row: only a single-threaded read knows where it is."""
    expected, actual = (int(n) for n in _RAGGED.search(message).groups())
    found: list[pcsv.InvalidRow] = []

    def remember(row: pcsv.InvalidRow) -> str:
        found.append(row)
        return "error"

    names = [f"c{i}" for i in range(expected)]
    try:
        # Convert only the first column, as text, so that no conversion error comes first.
        reader = pcsv.open_csv(
            source,
            pcsv.ReadOptions(
                use_threads=False,
                block_size=BLOCK_BYTES,
                encoding=encoding,
                column_names=names,
                skip_rows=1 + fmt.skip_rows,
            ),
            pcsv.ParseOptions(
                delimiter=fmt.delimiter, newlines_in_values=True, invalid_row_handler=remember
            ),
            pcsv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.string()}),
        )
        for _ in reader:
            pass
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        pass
    where = "A row"
    if found and found[0].number is not None:
        expected, actual = found[0].expected_columns, found[0].actual_columns
        where = f"Row {found[0].number - fmt.skip_rows} (counting the header as row 1)"
    return IngestError(
        f"{where} has {actual} fields, but the header has {expected}; "
        f"the delimiter is {DELIMITER_NAMES[fmt.delimiter]}.",
        code="ragged_rows",
    )


def load_parquet(source: Path, filename: str, out: Path, limits: Limits) -> Loaded:
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(
            f"'{filename}' is not a readable Parquet file ({_first_line(str(exc))}).",
            code="bad_parquet",
        ) from None
    try:
        with file:
            _check_declared(file.metadata, limits)
            plan = plan_columns(file.schema_arrow, allow_trailing_blank=False, limits=limits)
            text = [f.name for f in file.schema_arrow if _is_text(f.type)]
        # Text stays dictionary-encoded while it is read, so a value repeated a million times
        # is counted against the limits before anything expands it.
        with pq.ParquetFile(source, read_dictionary=text) as file:
            batches = file.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=True)
            written = write_batches(batches, plan, out, limits)
    except (pa.ArrowException, OSError) as exc:  # pyarrow reports damaged pages as OSError
        raise IngestError(
            f"'{filename}' is damaged or not a Parquet file ({_first_line(str(exc))}).",
            code="bad_parquet",
        ) from None
    return Loaded(written, plan, source_format="parquet")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)


def _check_declared(metadata: pq.FileMetaData, limits: Limits) -> None:
    """Refuse from the footer alone, before a single page is decompressed."""
    limits.check_rows(metadata.num_rows, exact=True)
    declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    limits.check_data_bytes(declared, exact=True)


def _first_line(message: str, limit: int = 300) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return line if len(line) <= limit else line[: limit - 1] + "…"
