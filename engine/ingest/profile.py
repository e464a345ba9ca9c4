"""Profile the columns of the normalised Parquet copy, holding one column in memory at a time."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HISTOGRAM_BINS = 12
TOP_VALUES = 10


def profile_parquet(
    path: Path, *, inf_counts: list[int], n_rows: int
) -> tuple[list[dict], list[str]]:
    """The column profile and the warnings it gives rise to, in column order.

    Columns are read back one at a time, so memory holds one column, not the table. (Profiling
    two columns at once on threads was slower on a busy two-core machine, and used more.)
    """
    with pq.ParquetFile(path) as file:
        columns = [
            profile_column(file.read([name], use_threads=False).column(0), name)
            for name in file.schema_arrow.names
        ]
    warnings = []
    for column, infinite in zip(columns, inf_counts, strict=True):
        column["inf_count"] = infinite
        warnings.extend(_warnings_for(column, infinite, n_rows))
    return columns, warnings


def profile_column(col: pa.ChunkedArray, name: str) -> dict:
    """Profile one column; NaN and infinity must already be null (see convert_batch)."""
    t = col.type
    profile: dict = {
        "name": name,
        "dtype": dtype_name(t),
        "kind": kind_of(t),
        "missing": col.null_count,
        "inf_count": 0,
    }
    if profile["kind"] == "numeric":
        profile.update(_numeric(col))
    elif profile["kind"] == "datetime":
        bounds = pc.min_max(col)
        profile["unique"] = pc.count_distinct(col, mode="only_valid").as_py()
        profile["min"] = json_safe(bounds["min"].as_py())
        profile["max"] = json_safe(bounds["max"].as_py())
    else:
        profile.update(_top_values(col))
    return profile


def dtype_name(t: pa.DataType) -> str:
    if pa.types.is_floating(t):
        return f"float{t.bit_width}"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    return str(t)


def kind_of(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    return "categorical"


def _numeric(col: pa.ChunkedArray) -> dict:
    mean, std = pc.mean(col).as_py(), pc.stddev(col, ddof=1).as_py()
    ordered = _to_numpy(col.drop_null() if col.null_count else col)
    if ordered.size == 0:
        unknown = dict.fromkeys(("min", "max", "mean", "std"))
        return {"unique": 0, **unknown, "histogram": {"edges": [], "counts": []}}
    # One sort gives the bounds, the distinct count and the histogram (by binary search), and
    # is much faster than hashing for float columns where nearly every value is distinct.
    ordered.sort()
    low, high = ordered[0].item(), ordered[-1].item()
    if ordered.dtype.kind in "iu" and high - low < HISTOGRAM_BINS:
        edges = np.arange(low, high + 2, dtype=np.float64) - 0.5  # one bin per integer
    elif low == high:
        edges = np.array([low - 0.5, high + 0.5], dtype=np.float64)
    else:
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    cuts = np.searchsorted(ordered, edges[1:-1], side="left")
    counts = np.diff(np.concatenate(([0], cuts, [ordered.size])))
    return {
        "unique": int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1,
        "min": json_safe(low),
        "max": json_safe(high),
        "mean": json_safe(mean),
        "std": json_safe(std),
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def _to_numpy(col: pa.ChunkedArray) -> np.ndarray:
    """A writable numpy copy of a null-free numeric column.

    Read straight from the buffers: pyarrow's own to_numpy imports pandas, which costs the web
    process a fifth of a second and tens of megabytes the first time.
    """
    t = col.type
    letter = "f" if pa.types.is_floating(t) else "i" if pa.types.is_signed_integer(t) else "u"
    dtype = np.dtype(f"{letter}{t.bit_width // 8}")
    out = np.empty(len(col), dtype=dtype)
    at = 0
    for chunk in col.chunks:
        n = len(chunk)
        skip = chunk.offset * dtype.itemsize
        out[at : at + n] = np.frombuffer(chunk.buffers()[1], dtype=dtype, count=n, offset=skip)
        at += n
    return out


def _top_values(col: pa.ChunkedArray) -> dict:
    tally = pc.value_counts(col)
    values, counts = tally.field("values"), tally.field("counts")
    if tally.null_count or values.null_count:
        present = values.is_valid()
        values, counts = values.filter(present), counts.filter(present)
    counts_np = _to_numpy(pa.chunked_array([counts]))
    # value_counts lists values in order of first appearance, so a stable sort breaks ties
    # the same way every time.
    order = np.argsort(-counts_np, kind="stable")[:TOP_VALUES]
    top_values = [values[int(i)].as_py() for i in order]
    return {
        "unique": len(values),
        "top": [
            {"value": _label(v), "count": int(counts_np[i])}
            for v, i in zip(top_values, order, strict=True)
        ],
    }


def _label(value: object) -> str:
    return str(json_safe(value))


def _warnings_for(column: dict, infinite: int, n_rows: int) -> list[str]:
    name, unique = column["name"], column["unique"]
    found = []
    if infinite:
        plural = "s" if infinite > 1 else ""
        found.append(f"Column '{name}': {infinite} infinite value{plural} treated as missing.")
    if unique == 0:
        found.append(f"Column '{name}' is empty in every row.")
    elif unique == 1:
        found.append(f"Column '{name}' has the same value in every row that has one.")
    elif unique == n_rows and (
        column["kind"] == "categorical"
        or (  # integers counting up one by one, like a row number
            column["dtype"].startswith(("int", "uint"))
            and column["max"] - column["min"] + 1 == n_rows
        )
    ):
        found.append(f"Column '{name}' has a different value in every row, like an ID.")
    return found


def json_safe(value: object) -> object:
    """A value json.dumps accepts and that means the same in JavaScript (no NaN or Infinity)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return json_safe(float(value))
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
