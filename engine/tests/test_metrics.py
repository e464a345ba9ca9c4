"""engine.metrics, which the copilots read metrics from: names, directions, and no heavy imports.

It belongs to the engine; its tests live here until the engine's own suite takes them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import metrics

REPO = Path(__file__).resolve().parents[2]


def test_task_metrics_are_the_leaderboard_columns_in_order():
    assert metrics.task_metrics("classification") == [
        "Accuracy",
        "AUC",
        "Recall",
        "Prec.",
        "F1",
        "Kappa",
        "MCC",
    ]
    assert metrics.task_metrics("regression") == ["MAE", "MSE", "RMSE", "R2", "RMSLE", "MAPE"]
    assert metrics.task_metrics("clustering") == [
        "Silhouette",
        "Calinski-Harabasz",
        "Davies-Bouldin",
    ]
    assert metrics.task_metrics("anomaly") == []
    assert metrics.task_metrics("time_series") == [
        "MASE",
        "RMSSE",
        "MAE",
        "RMSE",
        "MAPE",
        "SMAPE",
        "R2",
    ]
    assert metrics.task_metrics("no_such_task") == []
    for task, default in metrics.DEFAULT_METRIC.items():
        assert default in metrics.task_metrics(task)


@pytest.mark.parametrize(
    "task, name, display",
    [
        ("classification", "acc", "Accuracy"),
        ("classification", "Accuracy", "Accuracy"),
        ("classification", "precision", "Prec."),
        ("classification", " PREC. ", "Prec."),
        ("classification", "auc", "AUC"),
        ("regression", "r2", "R2"),
        ("classification", "r2", None),
        ("regression", "TT (Sec)", None),
        ("clustering", "acc", None),
        ("clustering", "db", "Davies-Bouldin"),
        ("time_series", "mase", "MASE"),
        ("anomaly", "acc", None),
        ("classification", "", None),
        ("classification", None, None),
    ],
)
def test_display_name(task, name, display):
    assert metrics.display_name(task, name) == display


def test_directions_and_bounds():
    assert metrics.higher_is_better("R2") and metrics.higher_is_better("AUC")
    assert not metrics.higher_is_better("MAE")
    assert not metrics.higher_is_better(metrics.TRAINING_TIME)
    assert metrics.higher_is_better("Silhouette")
    assert not metrics.higher_is_better("Davies-Bouldin")
    assert not metrics.higher_is_better("MASE")
    assert {*metrics.task_metrics("classification"), "R2"} == metrics.BOUNDED_METRICS


def test_imports_neither_django_nor_pandas_nor_pycaret():
    code = (
        "import sys; import engine.metrics; "
        "print(sorted(m for m in ('django', 'pandas', 'pycaret') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_leaderboard_columns_come_in_pycarets_order_whatever_order_the_row_kept():
    # PostgreSQL's jsonb returns keys shortest first: AUC, MCC, Kappa, Prec., ... Accuracy.
    stored = ["F1", "AUC", "MCC", "Kappa", "Prec.", "Recall", "Accuracy", "TT (Sec)", "Extra"]
    assert metrics.leaderboard_order(stored) == [
        "Accuracy",
        "AUC",
        "Recall",
        "Prec.",
        "F1",
        "Kappa",
        "MCC",
        "TT (Sec)",
        "Extra",
    ]
