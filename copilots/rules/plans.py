"""What a plan names that the engine does not know for its task: model ids and metrics."""

from __future__ import annotations

from typing import Any

from engine.metrics import TRAINING_TIME, display_name
from engine.model_registry import is_known_model

PLAN_METRIC_FIELDS = ("sort", "optimize")


def plan_model_ids(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, model id) for every model id a plan names."""
    found: list[tuple[str, str]] = []
    if isinstance(plan.get("model_id"), str):
        found.append(("model_id", plan["model_id"]))
    for field in ("include", "exclude", "model_ids"):
        for value in plan.get(field) or []:
            if isinstance(value, str):
                found.append((field, value))
    return found


def unknown_model_ids(task: str, plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, model id) for every id the registry does not know for `task`.

    "blend" is the id the runner gives a blended model: not in the registry, but not unknown.
    """
    return [
        (field, model_id)
        for field, model_id in plan_model_ids(plan)
        if model_id != "blend" and not is_known_model(task, model_id)
    ]


def unknown_metrics(
    task: str, plan: dict[str, Any], *, allow_time: bool = True
) -> list[tuple[str, str]]:
    """(field, metric) for every metric of the plan that is not one of `task`'s.

    With `allow_time`, training time ("TT" or its column name) counts as known.
    """
    found = []
    for field in PLAN_METRIC_FIELDS:
        metric = plan.get(field)
        if not metric or display_name(task, metric):
            continue
        if allow_time and metric in ("TT", TRAINING_TIME):
            continue
        found.append((field, metric))
    return found
