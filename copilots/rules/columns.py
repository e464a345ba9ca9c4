"""Judgements on one profiled column: constant, ID-like, high-cardinality, mostly missing, a
likely target, and the task its values suggest; and the class counts of a target column."""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

# Names that usually mean "the target", compared stripped and lower-cased.
TARGET_NAMES = (
    "target",
    "label",
    "class",
    "y",
    "outcome",
    "churn",
    "churned",
    "default",
    "survived",
    "fraud",
    "is_fraud",
    "diagnosis",
    "price",
)
ID_NAME = re.compile(r"(^|[_\s\-.])(id|uuid|guid|key|index|idx)$|^id[_\s\-.]|^(row|record)", re.I)
# More distinct values than this make one-hot encoding a categorical column expensive.
HIGH_CARDINALITY = 50
# An integer column with at most this many distinct values reads as class labels.
CLASSIFICATION_MAX_UNIQUE = 20
MOSTLY_MISSING_SHARE = 0.5


def is_constant(column: dict[str, Any]) -> bool:
    """One value (or none): nothing to learn from."""
    return (column.get("unique") or 0) <= 1


def is_id_like(column: dict[str, Any], n_rows: int) -> bool:
    """A different value in every row, and an ID's name or an ID's type (integer or category).

    Unique floats are left out: a continuous measurement is unique too.
    """
    unique = column.get("unique") or 0
    if n_rows < 2 or unique < n_rows:
        return False
    kind, dtype = column.get("kind"), str(column.get("dtype", ""))
    return bool(ID_NAME.search(str(column.get("name", "")))) or (
        kind == "categorical" or dtype.startswith(("int", "uint"))
    )


def is_high_cardinality(column: dict[str, Any]) -> bool:
    return column.get("kind") == "categorical" and (column.get("unique") or 0) > HIGH_CARDINALITY


def is_mostly_missing(share: float) -> bool:
    """`share` is the column's missing values over the rows."""
    return share >= MOSTLY_MISSING_SHARE


def has_target_name(name: Any) -> bool:
    return str(name).strip().lower() in TARGET_NAMES


def guess_task(column: dict[str, Any]) -> str:
    """The task a target column suggests: "classification" for categories, booleans, two-valued
    numbers and small sets of integers; "regression" otherwise."""
    kind = column.get("kind")
    if kind in ("categorical", "boolean"):
        return "classification"
    dtype = str(column.get("dtype", ""))
    unique = column.get("unique") or 0
    if kind == "numeric" and (
        unique <= 2 or (dtype.startswith(("int", "uint")) and unique <= CLASSIFICATION_MAX_UNIQUE)
    ):
        return "classification"
    return "regression"


def class_counts(dataset, column: str) -> dict[str, int]:
    """Rows per class of `column`; empty when the dataset's Parquet copy cannot be read."""
    from engine.selectors.datasets import dataset_class_counts

    try:
        return dataset_class_counts(dataset, column)
    except Exception:  # the Parquet copy is missing or unreadable: no counts, not a crash
        logger.warning("class counts unavailable for dataset %s", dataset.pk, exc_info=True)
        return {}


def top_classes(counts: dict[str, int], limit: int = 20) -> dict[str, int]:
    """The `limit` largest classes, largest first (ties keep their order)."""
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:limit])
