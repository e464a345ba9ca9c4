"""Turn PyCaret/pandas/numpy values into plain JSON-safe Python values."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """Plain JSON-safe copy of ``value``; NaN/inf become None, unknown objects their repr."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        # PyCaret shrinks dtypes; str() gives float32's shortest repr (41.6492, not 41.64920043)
        return to_jsonable(float(str(value)))
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if value is pd.NaT or value is pd.NA:
        return None
    return repr(value)


def frame_rows(frame: pd.DataFrame, index_name: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts, keeping PyCaret's column names and values as printed."""
    rows = []
    for index, row in frame.iterrows():
        item: dict[str, Any] = {}
        if index_name is not None:
            item[index_name] = to_jsonable(index)
        for column, value in row.items():
            item[str(column)] = to_jsonable(value)
        rows.append(item)
    return rows
