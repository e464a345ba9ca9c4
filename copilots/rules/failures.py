"""Failed runs: the category of an error the runner did not categorise (older rows), and what
the experiment's own data says about a failure (a target whose values suggest another task)."""

from __future__ import annotations

from typing import Any

from copilots.rules.targets import infer_task

CATEGORIES = ("DATA", "CONFIG", "ENGINE")

_DATA_HINTS = (
    "target column",
    "not found in the dataset",
    "missing values",
    "least populated class",
    "could not convert",
    "duplicate column",
    "input contains nan",
    "only one class",
    "at least two classes",
    "holds complex",
    "rows have a target value",
    "empty",
)
_CONFIG_HINTS = (
    "unknown model id",
    "unknown metric",
    "unknown parameter",
    "invalid parameter",
    "validationerror",
    "does not support",
    "setup option",
    "use include or exclude",
    "looks continuous",
    "not numeric",
    "not supported",
)
_ENGINE_HINTS = ("memoryerror", "out of memory", "worker lost", "time limit", "importerror")


def classify(error_type: str, message: str) -> tuple[str, str]:
    """(category, why) from the error's type and message, for rows without a category."""
    text = f"{error_type} {message}".lower()
    for hint in _ENGINE_HINTS:
        if hint in text:
            return "ENGINE", f"the error mentions {hint!r}"
    for hint in _CONFIG_HINTS:
        if hint in text:
            return "CONFIG", f"the error mentions {hint!r}"
    for hint in _DATA_HINTS:
        if hint in text:
            return "DATA", f"the error mentions {hint!r}"
    return "ENGINE", "nothing in the error points at the data or the plan"


def task_mismatch(*, task: str, target: dict[str, Any] | None) -> dict[str, str] | None:
    """`{task, reason}` when the target's profile suggests another task than the experiment's.

    Only between classification and regression, the two tasks a target's values decide.
    """
    if not target or task not in ("classification", "regression"):
        return None
    suggested = infer_task(target)
    if suggested == task:
        return None
    name, unique = target.get("name"), target.get("unique") or 0
    if suggested == "regression":
        reason = (
            f"'{name}' looks continuous ({unique} distinct numeric values): use a regression "
            "experiment, or bin it into classes"
        )
    else:
        kind = target.get("kind") or "categorical"
        reason = (
            f"'{name}' holds labels ({kind}, {unique} distinct values): use a classification "
            "experiment"
        )
    return {"task": suggested, "reason": reason}
