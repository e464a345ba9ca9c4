"""The facts of a trained model, read once from the database and the dataset's Parquet copy,
for the rule book's risk list (`copilots.rules.checklist.model_risks`).

The run explanation, the deployment review and the deploy gate read the same facts, so what
they judge is the same thing.
"""

from __future__ import annotations

from typing import Any

from copilots.numbers import as_number
from copilots.rules.columns import class_counts, is_id_like
from copilots.rules.environment import serving_environment
from copilots.rules.leakage import leakage_suspects
from copilots.rules.outcomes import UNSUPERVISED, applies
from copilots.rules.preprocessing import lookup, shape_rows, train_rows
from engine.metrics import DEFAULT_METRIC

DEFAULT_TRAIN_SIZE = 0.7  # PyCaret's setup default, for runs whose summary has no train shape


def chosen_rows(run) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the chosen model's leaderboard row, the runner-up's row)."""
    best = next((r for r in run.leaderboard if r.get("model_id") == run.model_id), None)
    best = best or (run.leaderboard[0] if run.leaderboard else None)
    runner_up = next((r for r in run.leaderboard if r is not best), None)
    return best, runner_up


def model_facts(run, pipeline=None) -> dict[str, Any]:
    """Everything the risk list needs about `run` (and the pipeline promoted from it)."""
    experiment = run.experiment
    dataset = experiment.dataset
    task = (pipeline.task if pipeline is not None else "") or experiment.task
    target = (pipeline.target if pipeline is not None else "") or experiment.target
    metric = run.leaderboard_sort or DEFAULT_METRIC.get(task, "")
    best, runner_up = chosen_rows(run)
    schema = (pipeline.feature_schema if pipeline is not None else None) or run.feature_schema
    features = [str(f.get("name")) for f in schema]
    profile = {c["name"]: c for c in dataset.columns}
    missing = [n for n in features if (profile.get(n) or {}).get("missing")]
    categorical = [
        f.get("name")
        for f in schema
        if f.get("kind") in ("categorical", "text")
        or (profile.get(f.get("name")) or {}).get("kind") == "categorical"
    ]
    rows = train_rows(run.preprocessing)
    if task in UNSUPERVISED:  # fitted on every row: no train/test split
        rows = dataset.n_rows
    if rows is None:
        train_size = as_number((experiment.setup_options or {}).get("train_size"))
        rows = int(dataset.n_rows * (train_size or DEFAULT_TRAIN_SIZE))
    counts: dict[str, int] = {}
    if task == "classification" and target:
        counts = class_counts(dataset, target)
    suspects, note = [], None
    if target and features and applies("leakage", task):
        suspects, note = leakage_suspects(dataset, target, task, set(), only=set(features))
    id_like = [n for n in features if n in profile and is_id_like(profile[n], dataset.n_rows)]
    return {
        "task": task,
        "target": target,
        "metric": metric,
        "best": best,
        "runner_up": runner_up,
        "holdout": run.metrics or {},
        "train_rows": rows,
        "n_features": len(features),
        "features": features,
        "missing_features": missing,
        "categorical_features": categorical,
        "class_counts": counts,
        "leakage_suspects": suspects,
        "leakage_note": note,
        "id_like_features": id_like,
        "preprocessing": run.preprocessing or {},
        "trained_environment": run.environment or {},
        "serving_environment": serving_environment(),
        "tune": (getattr(run, "outcome", None) or {}).get("tune"),
        "summary": run.summary or {},
        "forecast_horizon": forecast_horizon(run) if task == "time_series" else None,
    }


def forecast_horizon(run) -> dict[str, int | None]:
    """`{validated, asked}`: the held-out window the run validated on (PyCaret's test set, the
    last fh points), and the longest forecast it made or any deployment of it was asked for."""
    from django.db.models import Max

    from engine.models import PredictionRequest

    summary, setup = run.summary or {}, run.experiment.setup_options or {}
    found, shape = lookup(run.preprocessing or {}, "transformed test set shape")
    fh = as_number(summary.get("fh")) or as_number(setup.get("fh"))
    validated = (shape_rows(shape) if found else None) or (int(fh) if fh else None)
    served = PredictionRequest.objects.filter(
        deployment__pipeline__origin_run=run, horizon__isnull=False, status_code__lt=400
    ).aggregate(longest=Max("horizon"))["longest"]
    asked = max([int(n) for n in (fh, served) if n] or [0]) or None
    return {"validated": validated, "asked": asked}
