"""PyCaret's leaderboard metrics per task, known without importing PyCaret (or Django).

Forms and copilots use this to offer, check and read metrics in the web process. The runner
still resolves a metric against the live experiment's `get_metrics()`, which is the authority.
"""

from __future__ import annotations

from typing import NamedTuple


class Metric(NamedTuple):
    id: str  # what PyCaret's sort= and optimize= take
    name: str  # PyCaret's name for it
    display: str  # the leaderboard's column


# PyCaret 3.3's default metrics per task, in leaderboard order.
METRICS: dict[str, tuple[Metric, ...]] = {
    "classification": (
        Metric("acc", "Accuracy", "Accuracy"),
        Metric("auc", "AUC", "AUC"),
        Metric("recall", "Recall", "Recall"),
        Metric("precision", "Precision", "Prec."),
        Metric("f1", "F1", "F1"),
        Metric("kappa", "Kappa", "Kappa"),
        Metric("mcc", "MCC", "MCC"),
    ),
    "regression": (
        Metric("mae", "MAE", "MAE"),
        Metric("mse", "MSE", "MSE"),
        Metric("rmse", "RMSE", "RMSE"),
        Metric("r2", "R2", "R2"),
        Metric("rmsle", "RMSLE", "RMSLE"),
        Metric("mape", "MAPE", "MAPE"),
    ),
    # Only the metrics that need no ground truth: with none, PyCaret reports the others as 0.
    "clustering": (
        Metric("silhouette", "Silhouette", "Silhouette"),
        Metric("chs", "Calinski-Harabasz", "Calinski-Harabasz"),
        Metric("db", "Davies-Bouldin", "Davies-Bouldin"),
    ),
    # PyCaret scores no anomaly detector: a run reports how many rows it flagged instead.
    "anomaly": (),
    "time_series": (
        Metric("mase", "MASE", "MASE"),
        Metric("rmsse", "RMSSE", "RMSSE"),
        Metric("mae", "MAE", "MAE"),
        Metric("rmse", "RMSE", "RMSE"),
        Metric("mape", "MAPE", "MAPE"),
        Metric("smape", "SMAPE", "SMAPE"),
        Metric("r2", "R2", "R2"),
    ),
}
DEFAULT_METRIC = {
    "classification": "Accuracy",
    "regression": "R2",
    "clustering": "Silhouette",
    "time_series": "MASE",
}
# The leaderboard's training-time column: compare can sort by it (as "TT" or this name).
TRAINING_TIME = "TT (Sec)"
LOWER_IS_BETTER = frozenset(
    {"MAE", "MSE", "RMSE", "RMSLE", "MAPE", "MASE", "RMSSE", "SMAPE", "Davies-Bouldin"}
    | {TRAINING_TIME}
)
# Bounded above by 1, so a cross-validated 0.999 is suspicious rather than excellent.
BOUNDED_METRICS = frozenset({"Accuracy", "AUC", "Recall", "Prec.", "F1", "Kappa", "MCC", "R2"})


def leaderboard_order(columns) -> list[str]:
    """`columns` in PyCaret's leaderboard order: the tasks' metrics, then the training time, then
    anything else as given. A JSON column on PostgreSQL (jsonb) keeps no key order, so a stored
    leaderboard row cannot be trusted for it."""
    known = [m.display for metrics in METRICS.values() for m in metrics] + [TRAINING_TIME]
    present = list(columns)
    ordered = [name for name in dict.fromkeys(known) if name in present]
    return ordered + [name for name in present if name not in ordered]


def task_metrics(task: str) -> list[str]:
    """The display names of `task`'s metrics, in leaderboard order; empty for other tasks."""
    return [metric.display for metric in METRICS.get(task, ())]


def display_name(task: str, name: str | None) -> str | None:
    """The display name that `name` (an id, name or display name, any case) stands for."""
    if not name:
        return None
    wanted = name.strip().lower()
    for metric in METRICS.get(task, ()):
        if wanted in (metric.id, metric.name.lower(), metric.display.lower()):
            return metric.display
    return None


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of the display name `metric` is the better score."""
    return metric not in LOWER_IS_BETTER


# PyCaret scores a metric it cannot compute as exactly 0.0 (its scorers use error_score=0.0).
# Only AUC is read that way: a real AUC is never exactly 0 for a fitted model (that needs every
# ranking inverted in every fold), whereas PyCaret 3.3 gives 0.0 for the multiclass AUC of
# models whose scorer fails (lr, lightgbm, ridge, svm, ...). Other metrics can truly be 0
# (Recall, Kappa, MCC of a model that never predicts the rare class), so they are left alone.
NOT_COMPUTED_AS_ZERO = frozenset({"AUC"})
NOT_COMPUTED_HELP = (
    "PyCaret could not compute {metric} for this model (for example a multiclass AUC for a "
    "model whose scorer failed) and recorded 0; it is not a score."
)


def not_computed(metric: str, value: object) -> bool:
    """Whether `value` of `metric` is PyCaret's placeholder for "could not compute"."""
    if metric not in NOT_COMPUTED_AS_ZERO or isinstance(value, bool):
        return False
    try:
        return float(value) == 0.0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def strictly_better(metric: str, candidate: object, incumbent: object) -> bool:
    """Whether `candidate` beats `incumbent` on `metric`; a tie or a non-number does not.

    PyCaret's choose_better rule: a tuned model replaces the original only when it is strictly
    better on the tuning metric.
    """
    numbers = (int, float)
    if isinstance(candidate, bool) or isinstance(incumbent, bool):
        return False
    if not isinstance(candidate, numbers) or not isinstance(incumbent, numbers):
        return False
    return candidate > incumbent if higher_is_better(metric) else candidate < incumbent
