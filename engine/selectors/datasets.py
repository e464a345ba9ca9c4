"""Reads for datasets: scoped lookups, their files, and class counts of a column."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path

from django.db.models import QuerySet

from accounts.access import get_scoped_or_404
from engine import storage
from engine.models import Dataset, Project
from engine.selectors import VIA_PROJECT


def dataset_list(*, project: Project, archived: bool = False) -> QuerySet[Dataset]:
    """The project's datasets; archived ones only when asked for (then with the others)."""
    datasets = project.datasets.all()
    return datasets if archived else datasets.filter(archived_at__isnull=True)


def dataset_get(*, request, dataset_id) -> Dataset:
    return get_scoped_or_404(
        request,
        Dataset.objects.select_related("project__workspace"),
        workspace_field=VIA_PROJECT,
        pk=dataset_id,
    )


# Text that reads as a date or a time: 1949-01, 2024-03-31, 2024-03-31 12:00, 31/03/2024, 2024Q1.
_DATE_TEXT = re.compile(
    r"^(\d{4}[-/]\d{1,2}([-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{4}Q[1-4])$"
)


def dataset_date_columns(dataset: Dataset) -> list[str]:
    """Columns that hold dates: stored as timestamps, or text whose previewed values all read
    as dates. A hint for the forms; creating a time-series experiment checks every value."""
    found = []
    for column in dataset.columns:
        name = column["name"]
        if column.get("kind") == "datetime":
            found.append(name)
        elif column.get("kind") == "categorical":
            values = [row.get(name) for row in dataset.preview if row.get(name) is not None]
            if values and all(_DATE_TEXT.match(str(value).strip()) for value in values):
                found.append(name)
    return found


def dataset_parquet_file(dataset: Dataset) -> AbstractContextManager[Path]:
    """A local path of the normalised Parquet copy (what the runner loads), for a `with` block:
    the stored file itself on local storage, a temporary download from object storage."""
    return storage.local_copy(dataset.parquet_path)


def dataset_class_counts(dataset: Dataset, column: str) -> dict[str, int]:
    """Rows per distinct non-missing value of `column`.

    The profile's top values are used when they are complete; otherwise only that one
    column is read from the Parquet copy.
    """
    profile = dataset.column(column) or {}
    top = profile.get("top") or []
    unique = profile.get("unique")
    if top and unique is not None and len(top) >= unique:
        return {str(item["value"]): int(item["count"]) for item in top}
    import pyarrow.parquet as pq

    with dataset_parquet_file(dataset) as path:
        values = pq.read_table(path, columns=[column]).column(0)
    return {
        str(item["values"]): int(item["counts"])
        for item in values.value_counts().to_pylist()
        if item["values"] is not None
    }


def dataset_columns_frame(dataset: Dataset, columns: list[str]):
    """Only `columns` of the Parquet copy, as a pandas DataFrame read the way the runner reads
    the whole table (timestamps in nanoseconds)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with dataset_parquet_file(dataset) as path:
        table = pq.read_table(path, columns=columns)
    try:
        return table.to_pandas(coerce_temporal_nanoseconds=True)
    except pa.ArrowInvalid:
        return table.to_pandas()
