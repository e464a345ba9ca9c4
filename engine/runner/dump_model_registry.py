"""Regenerate engine/model_registry.json from PyCaret's own models() tables.

Run with ``python -m engine.runner.dump_model_registry`` after upgrading PyCaret or
installing an optional model library (xgboost, catboost), then commit the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "model_registry.json"


def pycaret_model_names(task: str) -> dict[str, str]:
    """Model id → display name, straight from PyCaret after a setup on small data."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    from engine.runner.execute import prepare_pycaret_import

    prepare_pycaret_import()

    if task == "classification":
        from pycaret.classification import ClassificationExperiment as Experiment

        data = load_breast_cancer(as_frame=True).frame
    elif task == "regression":
        from pycaret.regression import RegressionExperiment as Experiment

        data = load_diabetes(as_frame=True).frame
    else:
        raise ValueError(f"unknown task {task!r}")
    exp = Experiment()
    exp.setup(
        data.head(120),
        target="target",
        session_id=0,
        fold=2,
        n_jobs=1,
        verbose=False,
        html=False,
        system_log=False,
    )
    table = exp.models()
    return {str(model_id): str(name) for model_id, name in table["Name"].items()}


def build_registry() -> dict[str, dict[str, str]]:
    from engine.plans import TASKS

    return {task: pycaret_model_names(task) for task in TASKS}


def main() -> int:
    registry = build_registry()
    REGISTRY_PATH.write_text(json.dumps(registry, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{task}: {len(models)}" for task, models in registry.items())
    print(f"wrote {REGISTRY_PATH} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
