"""API schemas for datasets and their column profiles."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ColumnSummary(Schema):
    name: str
    dtype: str
    kind: str | None = None
    missing: int
    unique: int | None = None


class HistogramOut(Schema):
    edges: list[Any]
    counts: list[int]


class TopValueOut(Schema):
    value: Any
    count: int


class ColumnProfile(ColumnSummary):
    inf_count: int = 0
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    histogram: HistogramOut | None = None
    top: list[TopValueOut] | None = None


class DatasetOut(Schema):
    id: int
    name: str
    project_id: int
    original_filename: str
    source_format: str
    size_bytes: int
    n_rows: int
    n_cols: int
    sha256: str
    encoding: str
    delimiter: str
    columns: list[ColumnSummary]
    warnings: list[Any]
    created_at: datetime
    archived_at: datetime | None = Field(None, description="Set while it is archived.")


class DatasetDetail(DatasetOut):
    columns: list[ColumnProfile]
    preview: list[dict[str, Any]]
