"""Data drift between a reference frame (the training data) and current inputs: pure pandas/scipy.

Per feature, the test depends on the kind and on the size of the reference:

- numeric: Kolmogorov–Smirnov (drifted when p < 0.05) while the reference has at most
  1,000 rows; above that the Wasserstein distance divided by the reference's standard
  deviation (drifted when > 0.1), because with many rows KS flags differences too small
  to matter;
- categorical (and boolean): chi-square on the two count vectors (p < 0.05) up to 1,000
  reference rows, the Jensen–Shannon distance (> 0.1) above.

The dataset drifts when at least half of the tested features drift. With fewer than
MIN_CURRENT_ROWS current rows there is no report, only a status.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MIN_CURRENT_ROWS = 30
SMALL_REFERENCE_ROWS = 1000
P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DATASET_DRIFT_SHARE = 0.5
HISTOGRAM_BINS = 10
TOP_CATEGORIES = 8
OTHER = "(other)"

NUMERIC_KINDS = {"numeric", "datetime"}


def not_enough_data(*, reference_rows: int, current_rows: int) -> dict[str, Any]:
    return {
        "status": "not_enough_data",
        "detail": f"Not enough data yet: {current_rows} of {MIN_CURRENT_ROWS} rows",
        "reference_rows": reference_rows,
        "current_rows": current_rows,
        "drift_share": None,
        "dataset_drift": None,
        "features": [],
        "prediction_drift": None,
    }


def not_applicable(*, reference_rows: int, detail: str) -> dict[str, Any]:
    """A deployment that takes no input rows (a forecaster) has no input drift to measure."""
    return {
        "status": "not_applicable",
        "detail": detail,
        "reference_rows": reference_rows,
        "current_rows": 0,
        "drift_share": None,
        "dataset_drift": None,
        "features": [],
        "prediction_drift": None,
    }


def drift_report(
    *,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[dict[str, Any]],
    reference_predictions: pd.Series | None = None,
    current_predictions: pd.Series | None = None,
    prediction_kind: str = "categorical",
) -> dict[str, Any]:
    """Compare `current` with `reference` on each of `features` ([{name, kind}]).

    `reference_predictions` and `current_predictions`, when both are given, are compared
    the same way as a feature of `prediction_kind`.
    """
    reference_rows, current_rows = len(reference), len(current)
    if current_rows < MIN_CURRENT_ROWS:
        return not_enough_data(reference_rows=reference_rows, current_rows=current_rows)
    results = []
    for feature in features:
        name, kind = feature["name"], feature.get("kind", "numeric")
        ref = reference[name] if name in reference.columns else pd.Series(dtype=object)
        cur = current[name] if name in current.columns else pd.Series(dtype=object)
        result = feature_drift(ref, cur, kind=kind, reference_rows=reference_rows)
        results.append({"name": name, "kind": kind, **result})
    tested = [r for r in results if r["test"] != "none"]
    drifted = sum(1 for r in tested if r["drifted"])
    share = drifted / len(tested) if tested else 0.0
    prediction = None
    if reference_predictions is not None and current_predictions is not None:
        prediction = feature_drift(
            reference_predictions,
            current_predictions,
            kind=prediction_kind,
            reference_rows=len(reference_predictions),
        )
        prediction["kind"] = prediction_kind
    return {
        "status": "ok",
        "detail": (
            f"{drifted} of {len(tested)} features drifted"
            + ("; the dataset has drifted." if tested and share >= DATASET_DRIFT_SHARE else ".")
        ),
        "reference_rows": reference_rows,
        "current_rows": current_rows,
        "drift_share": round(share, 4),
        "dataset_drift": bool(tested) and share >= DATASET_DRIFT_SHARE,
        "n_drifted": drifted,
        "features": results,
        "prediction_drift": prediction,
    }


def feature_drift(
    reference: pd.Series, current: pd.Series, *, kind: str, reference_rows: int
) -> dict[str, Any]:
    """One feature's test: {test, statistic, p_value, threshold, drifted, histogram}."""
    if kind in NUMERIC_KINDS:
        ref, cur = _numeric(reference), _numeric(current)
    else:
        ref, cur = _categorical(reference), _categorical(current)
    if len(ref) == 0 or len(cur) == 0:
        return {
            "test": "none",
            "statistic": None,
            "p_value": None,
            "threshold": None,
            "drifted": False,
            "detail": "no values to compare" if len(cur) == 0 else "no reference values",
            "histogram": None,
        }
    small = reference_rows <= SMALL_REFERENCE_ROWS
    if kind in NUMERIC_KINDS:
        result = _ks(ref, cur) if small else _wasserstein(ref, cur)
        result["histogram"] = numeric_histogram(ref, cur)
    else:
        result = _chi_square(ref, cur) if small else _jensen_shannon(ref, cur)
        result["histogram"] = categorical_histogram(ref, cur)
    return result


def _numeric(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dropna().astype("int64").to_numpy(dtype=float) / 1e9
    elif pd.api.types.is_bool_dtype(series.dtype):
        values = series.dropna().astype(float).to_numpy()
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    return values[np.isfinite(values)]


def _categorical(series: pd.Series) -> pd.Series:
    values = series.dropna()
    # Compare 1 and 1.0 (or True and "True") as the same category.
    return values.map(_category_label)


def _category_label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return _category_label(value.item())
    return str(value)


def _finite(value: float) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def _ks(ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    from scipy.stats import ks_2samp

    result = ks_2samp(ref, cur)
    p_value = float(result.pvalue)
    return {
        "test": "ks",
        "statistic": _finite(result.statistic),
        "p_value": _finite(p_value),
        "threshold": P_VALUE_THRESHOLD,
        "drifted": p_value < P_VALUE_THRESHOLD,
    }


def _wasserstein(ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    from scipy.stats import wasserstein_distance

    distance = float(wasserstein_distance(ref, cur))
    scale = float(np.std(ref))
    if scale <= 0:  # a constant reference: any movement at all is drift
        scale = abs(float(np.mean(ref))) or 1.0
    normalised = distance / scale
    return {
        "test": "wasserstein",
        "statistic": _finite(normalised),
        "p_value": None,
        "threshold": DISTANCE_THRESHOLD,
        "drifted": normalised > DISTANCE_THRESHOLD,
    }


def _counts(ref: pd.Series, cur: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
    categories = sorted(set(ref_counts.index) | set(cur_counts.index), key=str)
    return (
        categories,
        ref_counts.reindex(categories, fill_value=0).to_numpy(dtype=float),
        cur_counts.reindex(categories, fill_value=0).to_numpy(dtype=float),
    )


def _chi_square(ref: pd.Series, cur: pd.Series) -> dict[str, Any]:
    from scipy.stats import chi2_contingency

    categories, ref_counts, cur_counts = _counts(ref, cur)
    if len(categories) < 2:
        statistic, p_value = 0.0, 1.0
    else:
        result = chi2_contingency(np.vstack([ref_counts, cur_counts]))
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return {
        "test": "chi_square",
        "statistic": _finite(statistic),
        "p_value": _finite(p_value),
        "threshold": P_VALUE_THRESHOLD,
        "drifted": p_value < P_VALUE_THRESHOLD,
    }


def _jensen_shannon(ref: pd.Series, cur: pd.Series) -> dict[str, Any]:
    from scipy.spatial.distance import jensenshannon

    _, ref_counts, cur_counts = _counts(ref, cur)
    distance = float(
        jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), base=2)
    )
    distance = 0.0 if not math.isfinite(distance) else distance
    return {
        "test": "jensen_shannon",
        "statistic": _finite(distance),
        "p_value": None,
        "threshold": DISTANCE_THRESHOLD,
        "drifted": distance > DISTANCE_THRESHOLD,
    }


def numeric_histogram(ref: np.ndarray, cur: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict:
    """Shares of each sample per bin, on edges spanning both samples."""
    low = float(min(ref.min(), cur.min()))
    high = float(max(ref.max(), cur.max()))
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    ref_counts, _ = np.histogram(ref, bins=edges)
    cur_counts, _ = np.histogram(cur, bins=edges)
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "reference": [round(float(c) / len(ref), 4) for c in ref_counts],
        "current": [round(float(c) / len(cur), 4) for c in cur_counts],
    }


def categorical_histogram(ref: pd.Series, cur: pd.Series, top: int = TOP_CATEGORIES) -> dict:
    """Shares of the most frequent categories (of both samples), the rest as "(other)"."""
    combined = pd.concat([ref, cur]).value_counts()
    shown = [str(c) for c in combined.index[:top]]
    ref_share = ref.value_counts(normalize=True)
    cur_share = cur.value_counts(normalize=True)
    ref_values = [round(float(ref_share.get(c, 0.0)), 4) for c in shown]
    cur_values = [round(float(cur_share.get(c, 0.0)), 4) for c in shown]
    if len(combined) > top:
        shown.append(OTHER)
        ref_values.append(round(max(0.0, 1.0 - sum(ref_values)), 4))
        cur_values.append(round(max(0.0, 1.0 - sum(cur_values)), 4))
    return {
        "kind": "categorical",
        "categories": shown,
        "reference": ref_values,
        "current": cur_values,
    }
