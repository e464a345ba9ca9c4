"""Which task a dataset suggests beyond its target column: forecasting, when one column holds a
regular date per row and another a numeric series; clustering or anomaly detection, when no
column is plausibly a target (no target's name, no labels).

`series_of` is the reader: it fetches the candidate columns from the dataset's Parquet copy and
builds the series exactly as the experiment service and the runner would (`engine.timeseries`).
"""

from __future__ import annotations

import logging
from typing import Any

from copilots.rules import columns as col
from copilots.rules import targets

logger = logging.getLogger(__name__)

# The folds a suggested forecasting experiment cross-validates (TimeSeriesOptions' default).
SERIES_FOLD = 3
# A natural horizon per frequency (a year of months, a week of days...), cut to what fits.
HORIZONS = {"A": 3, "Y": 3, "Q": 4, "M": 12, "W": 4, "D": 7, "B": 5, "H": 24}
DEFAULT_HORIZON = 6
# At most this many date columns are read to look for a series.
MAX_DATE_CANDIDATES = 3
# Models a suggested plan uses per task: fast and always installed.
FAST_SERIES_MODELS = ["naive", "snaive", "polytrend", "arima", "exp_smooth", "ets", "theta"]
CLUSTERING_MODEL, NUM_CLUSTERS = "kmeans", 3
ANOMALY_MODEL, ANOMALY_FRACTION = "iforest", 0.05
# Words of a goal that ask for anomaly detection rather than clustering.
ANOMALY_WORDS = ("anomal", "outlier", "unusual", "fraud", "odd ", "rare ")


def name_signal(name: str, dataset_name: str = "") -> bool:
    """Whether a column's name says "target": a usual target name, or the dataset's own."""
    lowered = str(name).strip().lower()
    if lowered in targets.STRONG_NAMES or lowered in targets.WEAK_NAMES:
        return True
    if targets.NAME_PARTS.search(lowered):
        return True
    stem = targets._stem(dataset_name.rsplit(".", 1)[0]) if dataset_name else ""
    return bool(stem) and len(stem) >= 3 and targets._stem(lowered) == stem


def label_like(column: dict[str, Any]) -> bool:
    """A few labels: a category or boolean with few values, two numbers, a few integers."""
    kind, unique = column.get("kind"), column.get("unique") or 0
    if kind in ("categorical", "boolean"):
        return unique <= targets.FEW_CLASSES
    if kind == "numeric":
        return unique <= 2 or (
            col.is_integer(column) and unique <= targets.CLASSIFICATION_MAX_UNIQUE
        )
    return False


def plausible_target(column: dict[str, Any], dataset_name: str = "") -> bool:
    """A column a person would call the target: named like one, or holding a few labels.

    A measurement among measurements (iris' petal width) is not: it is only the last column.
    """
    return name_signal(column.get("name", ""), dataset_name) or label_like(column)


def looks_like_dates(column: dict[str, Any]) -> bool:
    """Parsed dates, or text whose most frequent values (the profile's) all parse as dates:
    a cheap look before the whole column is read."""
    if column.get("kind") == "datetime":
        return True
    if column.get("kind") != "categorical":
        return False
    import warnings

    import pandas as pd

    shown = [str(t.get("value")) for t in column.get("top") or []]
    if not shown:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(pd.to_datetime(pd.Series(shown), errors="coerce").notna().all())


def date_candidates(profile: list[dict[str, Any]], n_rows: int) -> list[str]:
    """Columns that may hold one date per row: parsed dates, or date-like text, a value a row."""
    found = []
    for column in profile:
        if column.get("missing") or (column.get("unique") or 0) < n_rows or n_rows < 3:
            continue
        if looks_like_dates(column):
            found.append(column["name"])
    return found[:MAX_DATE_CANDIDATES]


def series_values(profile: list[dict[str, Any]], ranked: list[dict[str, Any]]) -> list[str]:
    """Numeric columns that can be a series (more than two values, none missing), best target
    candidate first."""
    by_name = {c["name"]: c for c in profile}
    found = []
    for candidate in ranked:
        column = by_name.get(candidate["column"]) or {}
        numeric = column.get("kind") == "numeric" and (column.get("unique") or 0) > 2
        if numeric and not column.get("missing"):
            found.append(column["name"])
    return found


def horizon(frequency: str, n_points: int, fold: int = SERIES_FOLD) -> int:
    """A forecast horizon for the frequency that the series is long enough to validate:
    fh * (fold + 1) + MIN_WINDOW points at least (`engine.timeseries.check_length`)."""
    from engine.timeseries import MIN_WINDOW

    base = frequency.split("-", 1)[0].lstrip("0123456789").upper()
    wanted = HORIZONS.get(base[:1], DEFAULT_HORIZON)
    return max(0, min(wanted, (n_points - MIN_WINDOW) // (fold + 1)))


def series_of(dataset, ranked: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The series a forecasting experiment on `dataset` would learn from:
    `{date_column, target, points, frequency, first, last, fh, fold}`, or None."""
    from engine.selectors.datasets import dataset_columns_frame
    from engine.timeseries import SeriesProblem, build_series

    values = series_values(dataset.columns, ranked)
    dates = [d for d in date_candidates(dataset.columns, dataset.n_rows) if d not in values]
    if not values or not dates:
        return None
    target = values[0]
    for date_column in dates:
        try:
            frame = dataset_columns_frame(dataset, [date_column, target])
            series = build_series(frame, date_column=date_column, target=target)
        except SeriesProblem:
            continue
        except Exception:  # an unreadable Parquet copy: no suggestion, not a crash
            logger.warning("series check failed for dataset %s", dataset.pk, exc_info=True)
            return None
        index = series.index
        fh = horizon(index.freqstr, len(series))
        if fh < 1:
            return None
        return {
            "date_column": date_column,
            "target": target,
            "points": len(series),
            "frequency": index.freqstr,
            "first": str(index[0]),
            "last": str(index[-1]),
            "fh": fh,
            "fold": SERIES_FOLD,
        }
    return None


def unsupervised_task(goal: str = "") -> str:
    """Clustering, or anomaly detection when the goal asks for unusual rows."""
    lowered = f"{goal.lower()} "
    return "anomaly" if any(word in lowered for word in ANOMALY_WORDS) else "clustering"


def unsupervised_plan(task: str) -> dict[str, Any]:
    """A first plan for a task with no target: one create_model (the only kind they run)."""
    if task == "anomaly":
        return {"kind": "create", "model_id": ANOMALY_MODEL, "fraction": ANOMALY_FRACTION}
    return {"kind": "create", "model_id": CLUSTERING_MODEL, "num_clusters": NUM_CLUSTERS}


def lacks_target(dataset, target: dict[str, Any] | None, series: dict[str, Any] | None) -> bool:
    """No plausible target: no candidate at all, or a guessed one that is neither named like a
    target, nor holds labels, nor is a series, nor was chosen for an experiment."""
    if target is None:
        return True
    return (
        target["source"] == "guessed"
        and not series
        and not plausible_target(dataset.column(target["column"]) or {}, dataset.name)
        and not dataset.experiments.filter(target=target["column"]).exists()
    )


def series_target(target: dict[str, Any] | None, series: dict[str, Any] | None) -> bool:
    """Whether the target (a continuous one) is the series: then the task is forecasting."""
    if not target or not series:
        return False
    return target["column"] == series["target"] and target["task_guess"] == "regression"


def no_target_sentence(target: dict[str, Any] | None) -> str:
    if not target:
        return "No column can be a target."
    return (
        "No column is plausibly a target, though: none is named like one or holds a few "
        f"labels, and '{target['column']}' is only a guess from its place."
    )


def series_advice(series: dict[str, Any]) -> tuple[str, str]:
    """(the finding, the recommendation) of a dataset that holds a series."""
    how = (
        f"a time_series experiment (date_column='{series['date_column']}', "
        f"target='{series['target']}', fh={series['fh']})"
    )
    return (
        f"'{series['date_column']}' holds one date per row, evenly spaced ({series['points']} "
        f"points of frequency {series['frequency']}, {series['first']} to {series['last']}), "
        f"and '{series['target']}' is a numeric series: it can be forecast.",
        f"Forecast '{series['target']}' with {how}, rather than regress it on the other columns.",
    )


NO_TARGET_ADVICE = (
    "No target to predict: explore the rows with a clustering experiment (kmeans, "
    f"num_clusters={NUM_CLUSTERS}, normalize=True) or flag unusual rows with anomaly detection "
    f"(iforest, fraction={ANOMALY_FRACTION})."
)
