"""Side-by-side comparison of 2 to 5 runs the caller can see: their settings as a diff, their
scores with the best of each row marked (by the metric's direction), their per-fold scores
where the run recorded them, and their plots."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import InvalidInput
from engine.metrics import METRICS, TRAINING_TIME, higher_is_better, leaderboard_order, not_computed
from engine.models import Run
from engine.selectors.runs import run_cv_scores, run_get, run_seconds

COMPARE_MIN = 2
COMPARE_MAX = 5
ID_MAX = 2**63 - 1
# The scores with a known better direction; other columns (rows flagged, ...) are not ranked.
RANKED = frozenset(m.display for metrics in METRICS.values() for m in metrics) | {TRAINING_TIME}


def compare_ids(values: list[str]) -> list[int]:
    """Run ids from `?ids=1,2,3` (or `ids=1&ids=2`): 2 to 5 distinct whole numbers, in the
    order given; anything else is InvalidInput (422) with a message that says what to fix."""
    parts = [part.strip() for value in values for part in str(value).split(",")]
    parts = [part.removeprefix("#") for part in parts if part]
    ids: list[int] = []
    for part in parts:
        if not part.isdigit() or int(part) > ID_MAX or int(part) == 0:
            raise InvalidInput(f"Run ids are whole numbers; {part[:20]!r} is not one.")
        if int(part) not in ids:
            ids.append(int(part))
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise InvalidInput(
            f"Pick {COMPARE_MIN} to {COMPARE_MAX} different runs to compare; "
            f"{len(ids)} {'was' if len(ids) == 1 else 'were'} given.",
            code="compare_count",
        )
    return ids


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return value


def _settings(runs: list[Run]) -> list[dict]:
    rows: list[tuple[str, list[Any]]] = [
        ("experiment", [run.experiment.name for run in runs]),
        ("task", [run.experiment.get_task_display() for run in runs]),
        ("target", [run.experiment.target for run in runs]),
        ("dataset", [run.experiment.dataset.name for run in runs]),
    ]
    plan_keys = list(dict.fromkeys(key for run in runs for key in run.plan))
    plan_keys.sort(key=lambda key: key != "kind")
    rows += [(f"plan.{key}", [run.plan.get(key) for run in runs]) for key in plan_keys]
    setup_keys = sorted({key for run in runs for key in run.experiment.setup_options})
    rows += [
        (f"setup.{key}", [run.experiment.setup_options.get(key) for run in runs])
        for key in setup_keys
    ]
    result = []
    for name, values in rows:
        texts = [_text(value) for value in values]
        result.append({"name": name, "values": texts, "differs": len(set(texts)) > 1})
    return result


def _metric_rows(source: str, per_run: list[dict]) -> list[dict]:
    names = leaderboard_order(
        dict.fromkeys(
            name for scores in per_run for name in scores if name not in ("Model", "model_id")
        )
    )
    rows = []
    for name in names:
        values = [scores.get(name) for scores in per_run]
        numbers = [None if not_computed(name, v) else _number(v) for v in values]
        present = [n for n in numbers if n is not None]
        best = None
        if len(present) >= COMPARE_MIN and name in RANKED:
            best = max(present) if higher_is_better(name) else min(present)
        rows.append(
            {
                "source": source,
                "name": name,
                "higher_is_better": higher_is_better(name),
                "values": values,
                "best": [n is not None and n == best for n in numbers],
            }
        )
    return rows


def _folds(run: Run) -> dict:
    folds = (run.outcome or {}).get("cv_folds") or []
    if not folds:
        return {"run_id": run.pk, "recorded": False, "columns": [], "rows": []}
    columns = leaderboard_order(dict.fromkeys(k for row in folds for k in row if k != "Fold"))
    return {"run_id": run.pk, "recorded": True, "columns": columns, "rows": folds}


def _plots(runs: list[Run]) -> list[dict]:
    """Each plot any of the runs drew, with which runs have it: [{name, runs: [{run_id,
    present}]}]."""
    names = list(dict.fromkeys(plot["name"] for run in runs for plot in run.plots))
    return [
        {
            "name": name,
            "runs": [
                {
                    "run_id": run.pk,
                    "label": run.label,
                    "present": any(p.get("name") == name for p in run.plots),
                }
                for run in runs
            ],
        }
        for name in names
    ]


def run_compare(*, request, run_ids: list[int]) -> dict:
    """The comparison of `run_ids` (checked by compare_ids); any run the caller cannot see is
    a 404, as for one run."""
    runs = [run_get(request=request, run_id=run_id) for run_id in run_ids]
    return {
        "runs": [
            {
                "id": run.pk,
                "label": run.label,
                "experiment_id": run.experiment_id,
                "status": run.status,
                "model_id": run.model_id or None,
                "model_name": run.model_name or None,
                "duration_s": run_seconds(run),
                "run": run,
            }
            for run in runs
        ],
        "settings": _settings(runs),
        "metrics": _metric_rows("cv", [run_cv_scores(run) for run in runs])
        + _metric_rows("holdout", [run.metrics or {} for run in runs]),
        "folds": [_folds(run) for run in runs],
        "plots": _plots(runs),
    }
