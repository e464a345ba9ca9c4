"""Regenerate engine/model_registry.json from PyCaret's own models() tables.

Run with ``python -m engine.runner.dump_model_registry`` after upgrading PyCaret or
installing an optional model library (xgboost, catboost), then commit the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "model_registry.json"
SETUP_QUIET = {"verbose": False, "html": False, "system_log": False}


def _experiment_after_setup(task: str) -> Any:
    """A PyCaret experiment of ``task`` after a setup on small bundled or generated data."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

    from engine.runner.execute import prepare_pycaret_import

    prepare_pycaret_import()
    if task in ("classification", "regression"):
        if task == "classification":
            from pycaret.classification import ClassificationExperiment as Experiment

            data = load_breast_cancer(as_frame=True).frame
        else:
            from pycaret.regression import RegressionExperiment as Experiment

            data = load_diabetes(as_frame=True).frame
        exp = Experiment()
        exp.setup(data.head(120), target="target", session_id=0, fold=2, n_jobs=1, **SETUP_QUIET)
        return exp
    if task in ("clustering", "anomaly"):
        if task == "clustering":
            from pycaret.clustering import ClusteringExperiment as Experiment
        else:
            from pycaret.anomaly import AnomalyExperiment as Experiment
        exp = Experiment()
        data = load_iris(as_frame=True).frame.drop(columns="target")
        exp.setup(data, session_id=0, n_jobs=1, **SETUP_QUIET)
        return exp
    if task == "time_series":
        from pycaret.time_series import TSForecastingExperiment

        from engine.timeseries import build_series, monthly_demo_frame

        series = build_series(monthly_demo_frame(), date_column="month", target="passengers")
        exp = TSForecastingExperiment()
        exp.setup(series, fh=12, fold=2, session_id=0, n_jobs=1, **SETUP_QUIET)
        return exp
    raise ValueError(f"unknown task {task!r}")


def pycaret_model_names(task: str) -> dict[str, str]:
    """Model id → display name, straight from PyCaret after a setup on small data."""
    table = _experiment_after_setup(task).models()
    return {str(model_id): str(name) for model_id, name in table["Name"].items()}


def pycaret_num_clusters_models() -> list[str]:
    """Clustering models with an ``n_clusters`` parameter, which ``num_clusters`` sets."""
    internal = _experiment_after_setup("clustering").models(internal=True)
    return [
        str(model_id)
        for model_id, row in internal.iterrows()
        if "n_clusters" in row["Class"](**dict(row["Args"] or {})).get_params(deep=False)
    ]


def pycaret_predicting_clustering_models() -> list[str]:
    """Clustering models that can place new rows (``predict``); the others label their
    training rows only, so they cannot be deployed."""
    internal = _experiment_after_setup("clustering").models(internal=True)
    return [
        str(model_id)
        for model_id, row in internal.iterrows()
        if callable(getattr(row["Class"], "predict", None))
    ]


def build_registry() -> dict[str, Any]:
    from engine.model_registry import CAPABILITIES
    from engine.plans import TASKS

    registry: dict[str, Any] = {task: pycaret_model_names(task) for task in TASKS}
    registry[CAPABILITIES] = {
        "num_clusters": pycaret_num_clusters_models(),
        "predicts_new_clusters": pycaret_predicting_clustering_models(),
    }
    return registry


def main() -> int:
    registry = build_registry()
    REGISTRY_PATH.write_text(json.dumps(registry, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(
        f"{task}: {len(models)}" for task, models in registry.items() if task != "capabilities"
    )
    print(f"wrote {REGISTRY_PATH} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
