"""Judgements on one profiled column: constant or nearly so, ID-like, date-like, year-like,
high-cardinality, mostly missing; and the class counts of a target column."""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

# A name that says "identifier" or "row number": customer_id, uuid, rownames, Unnamed: 0, index.
ID_NAME = re.compile(
    r"(^|[_\s\-.])(id|uuid|guid|key|index|idx)$|^id[_\s\-.]|^(row|record)|^unnamed:?\s*\d*$|^#$",
    re.I,
)
DATE_NAME = re.compile(r"(^|[_\s\-.])(date|time|timestamp|datetime|dt)$|^(date|time)[_\s\-.]", re.I)
YEAR_NAME = re.compile(r"^(year|yr|yyyy)$|(^|[_\s\-.])(year|yr)$", re.I)
# Integers in this range with few distinct values read as calendar years.
YEAR_RANGE = (1800, 2100)
YEAR_MAX_UNIQUE = 60
# More distinct values than this make one-hot encoding a categorical column expensive.
HIGH_CARDINALITY = 50
MOSTLY_MISSING_SHARE = 0.5
# One value in this share of the rows (or more) leaves almost nothing to learn from.
NEAR_CONSTANT_SHARE = 0.99


def is_integer(column: dict[str, Any]) -> bool:
    return str(column.get("dtype", "")).startswith(("int", "uint"))


def is_constant(column: dict[str, Any]) -> bool:
    """One value (or none): nothing to learn from."""
    return (column.get("unique") or 0) <= 1


def top_share(column: dict[str, Any], n_rows: int) -> float | None:
    """The most frequent value's share of the rows that have one, where the profile says."""
    present = n_rows - (column.get("missing") or 0)
    top = column.get("top") or []
    if top and present > 0:
        return max(int(t.get("count") or 0) for t in top) / present
    histogram = column.get("histogram") or {}
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    # One bin per integer (the profile does that for small integer ranges): exact counts.
    if counts and present > 0 and len(edges) == len(counts) + 1 and edges[1] - edges[0] == 1:
        return max(counts) / present
    return None


def is_near_constant(column: dict[str, Any], n_rows: int) -> bool:
    """Not constant, but one value fills NEAR_CONSTANT_SHARE of the rows or more."""
    if is_constant(column):
        return False
    share = top_share(column, n_rows)
    return share is not None and share >= NEAR_CONSTANT_SHARE


def is_id_like(column: dict[str, Any], n_rows: int) -> bool:
    """A different value in every row, and an ID's name or an ID's type (integer or category).

    Unique floats are left out unless the name says ID: a continuous measurement is unique too.
    """
    unique = column.get("unique") or 0
    if n_rows < 2 or unique < n_rows:
        return False
    kind = column.get("kind")
    return bool(ID_NAME.search(str(column.get("name", "")))) or (
        kind == "categorical" or is_integer(column)
    )


def has_id_name(column: dict[str, Any]) -> bool:
    return bool(ID_NAME.search(str(column.get("name", "")).strip()))


def is_year_like(column: dict[str, Any]) -> bool:
    """Whole numbers within 1800-2100 that look like calendar years: integers with a year's
    name or few values, or whole-valued floats with a year's name (1947.0 from a CSV)."""
    if column.get("kind") != "numeric":
        return False
    low, high = column.get("min"), column.get("max")
    in_range = (
        isinstance(low, int | float)
        and isinstance(high, int | float)
        and YEAR_RANGE[0] <= low <= high <= YEAR_RANGE[1]
    )
    if not in_range:
        return False
    named = bool(YEAR_NAME.search(str(column.get("name", "")).strip()))
    if not is_integer(column):
        return named and float(low).is_integer() and float(high).is_integer()
    return named or (column.get("unique") or 0) <= YEAR_MAX_UNIQUE


def is_date_like(column: dict[str, Any]) -> bool:
    """A date or time: parsed as one, or named like one (a text date the reader left as text)."""
    if column.get("kind") == "datetime":
        return True
    return column.get("kind") == "categorical" and bool(
        DATE_NAME.search(str(column.get("name", "")).strip())
    )


def is_high_cardinality(column: dict[str, Any]) -> bool:
    return column.get("kind") == "categorical" and (column.get("unique") or 0) > HIGH_CARDINALITY


def is_mostly_missing(share: float) -> bool:
    """`share` is the column's missing values over the rows."""
    return share >= MOSTLY_MISSING_SHARE


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


def id_feature_risks(names: list[str]) -> list[dict[str, str]]:
    """An ID-like or row-number column among a model's features: it can only be memorised."""
    from copilots.rules.risks import risk

    if not names:
        return []
    shown = ", ".join(f"'{n}'" for n in names[:6])
    return [
        risk(
            "ID-like feature in the model",
            "medium",
            f"{shown}: a different value in every row, so the model can only memorise it; "
            "add it to ignore_features and retrain",
        )
    ]
