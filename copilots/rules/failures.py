"""Failed runs: the category of an error the runner did not categorise (older rows)."""

from __future__ import annotations

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
    "row has a target value",
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
