"""Leakage suspects: features that alone predict the target almost perfectly.

Each feature gets one test by task and kind: a one-split decision stump (numeric, classification),
category purity (categorical, classification), Pearson correlation (numeric, regression) or eta
squared (categorical, regression). Big tables are sampled down to SAMPLE_ROWS rows first.
Dataset analysis runs it on every feature; the deployment review and the run explanation run
the same test on the pipeline's training features.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from copilots.numbers import fmt
from copilots.rules.risks import risk

logger = logging.getLogger(__name__)

SUSPECT_SCORE = 0.98
# Classification only: how much of the gap between the majority-class baseline and a perfect
# score the feature must close, so that a 99%-majority target does not make everything a suspect.
SUSPECT_IMPROVEMENT = 0.8
SAMPLE_ROWS = 20_000
MAX_FEATURES = 200
MIN_ROWS = 10


def sample_frame(dataset, columns: list[str]):
    """At most SAMPLE_ROWS evenly spaced rows, read batch by batch (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from engine.selectors.datasets import dataset_parquet_file

    with dataset_parquet_file(dataset) as path, pq.ParquetFile(path) as parquet:
        total = parquet.metadata.num_rows
        step = max(1, math.ceil(total / SAMPLE_ROWS))
        kept, offset = [], 0
        for batch in parquet.iter_batches(batch_size=65_536, columns=columns):
            first = (-offset) % step
            kept.append(batch.take(np.arange(first, batch.num_rows, step)))
            offset += batch.num_rows
    if not kept:
        import pandas as pd

        return pd.DataFrame(columns=columns)
    return pa.Table.from_batches(kept).to_pandas()


def stump_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the best one-threshold split of numeric `x` predicting class codes `y`."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n, k = len(y), int(y.max()) + 1
    onehot = np.zeros((n, k), dtype=np.int64)
    onehot[np.arange(n), y] = 1
    left = np.cumsum(onehot, axis=0)
    right = left[-1] - left
    # split after position i only where the value changes
    valid = np.nonzero(x[1:] != x[:-1])[0]
    if valid.size == 0:
        return float(left[-1].max() / n)
    correct = left[valid].max(axis=1) + right[valid].max(axis=1)
    return float(correct.max() / n)


def purity(groups: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose class is their group's majority class."""
    import pandas as pd

    table = pd.crosstab(groups, y)
    return float(table.max(axis=1).sum() / len(y))


def correlation_ratio(groups: np.ndarray, y: np.ndarray) -> float:
    """Eta squared: the share of the variance of numeric `y` that the groups explain."""
    import pandas as pd

    frame = pd.DataFrame({"g": groups, "y": y})
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    means = frame.groupby("g")["y"].transform("mean").to_numpy()
    return float(((means - y.mean()) ** 2).sum() / total)


def frame_suspects(
    frame, *, target: str, task: str, features: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """(suspects, note) for the profiled `features` of `frame`, best score first.

    A suspect is `{column, test, score}`, plus `baseline` (the majority class's share) for
    classification. The note says why nothing could be checked.
    """
    import pandas as pd

    frame = frame[frame[target].notna()]
    n = len(frame)
    if n < MIN_ROWS:
        return [], "Too few rows with a target value to check for leakage."
    suspects: list[dict[str, Any]] = []
    if task == "classification":
        y = pd.factorize(frame[target].astype(str))[0]
        baseline = float(np.bincount(y).max() / n)
    else:
        y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
        baseline = 0.0
    for column in features:
        name = column["name"]
        series = frame[name]
        numeric = column.get("kind") in ("numeric", "boolean")
        present = series.notna().to_numpy()
        if present.sum() < max(MIN_ROWS, 0.5 * n):
            continue
        try:
            if task == "classification":
                if numeric:
                    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
                    keep = ~np.isnan(x)
                    score = stump_accuracy(x[keep], pd.factorize(y[keep])[0])
                    test = "single-feature decision stump accuracy"
                else:
                    if (column.get("unique") or 0) > n / 10:
                        continue  # nearly unique values are trivially "pure"
                    score = purity(series.astype(str).to_numpy(), y)
                    test = "category purity (rows in their category's majority class)"
                improvement = (score - baseline) / (1 - baseline) if baseline < 1 else 0.0
                if score >= SUSPECT_SCORE and improvement >= SUSPECT_IMPROVEMENT:
                    suspects.append(
                        {
                            "column": name,
                            "test": test,
                            "score": round(score, 4),
                            "baseline": round(baseline, 4),
                        }
                    )
            else:
                keep = present & ~np.isnan(y)
                if numeric:
                    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
                    keep &= ~np.isnan(x)
                    if keep.sum() < MIN_ROWS or np.std(x[keep]) == 0 or np.std(y[keep]) == 0:
                        continue
                    score = abs(float(np.corrcoef(x[keep], y[keep])[0, 1]))
                    test = "absolute Pearson correlation with the target"
                else:
                    if (column.get("unique") or 0) > n / 10:
                        continue
                    score = correlation_ratio(series[keep].astype(str).to_numpy(), y[keep])
                    test = "share of target variance explained by the category (eta squared)"
                if score >= SUSPECT_SCORE:
                    suspects.append({"column": name, "test": test, "score": round(score, 4)})
        except (ValueError, TypeError, IndexError, MemoryError) as exc:
            logger.info("leakage test failed on %r: %s", name, exc)
    suspects.sort(key=lambda s: -s["score"])
    return suspects, None


def leakage_suspects(
    dataset, target: str, task: str, skip: set[str], *, only: set[str] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """(suspects, note) for `dataset`'s features other than `target`, `skip` and dates.

    With `only`, just those features (a pipeline's training features).
    """
    if task not in ("classification", "regression") or not dataset.column(target):
        return [], None
    features = [
        c
        for c in dataset.columns
        if c["name"] != target
        and c["name"] not in skip
        and c.get("kind") != "datetime"
        and (only is None or c["name"] in only)
    ][:MAX_FEATURES]
    if not features:
        return [], None
    try:
        frame = sample_frame(dataset, [target, *[c["name"] for c in features]])
    except Exception as exc:
        logger.warning("leakage check skipped for dataset %s: %s", dataset.pk, exc)
        return [], "The Parquet copy could not be read, so leakage was not checked."
    return frame_suspects(frame, target=target, task=task, features=features)


def describe(suspect: dict[str, Any], target: str) -> str:
    """How well the column alone predicts the target, in words a person can act on."""
    column, score = suspect["column"], suspect["score"]
    if "baseline" in suspect:
        how = (
            f"'{column}' alone predicts '{target}' with {score:.1%} accuracy "
            f"({suspect['test']}; the majority class alone gets {suspect['baseline']:.1%})"
        )
    else:
        how = f"'{column}' alone explains '{target}': {suspect['test']} = {fmt(score)}"
    return how + f". If it is known only after the outcome, add '{column}' to ignore_features"


def leakage_risks(suspects: list[dict[str, Any]], target: str) -> list[dict[str, str]]:
    """One high risk per suspect: a model trained on it looks better than it will be."""
    return [risk(f"leakage suspect: {s['column']}", "high", describe(s, target)) for s in suspects]
