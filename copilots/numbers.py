"""Numbers as the copilots read them from stored runs and write them into evidence and advice."""

from __future__ import annotations

from typing import Any

from engine.metrics import not_computed


def as_number(value: Any) -> float | None:
    """`value` as a float, or None; stored scores can be strings, and a bool is not a score."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def fmt(value: Any, digits: int = 4) -> str:
    """At most `digits` decimals without trailing zeros; "n/a" for anything not a number."""
    number = as_number(value)
    if number is None:
        return "n/a"
    return f"{number:.{digits}f}".rstrip("0").rstrip(".") if number % 1 else f"{number:.0f}"


def score_of(row: dict[str, Any] | None, metric: str) -> float | None:
    """`row[metric]` as a number; None when missing or when PyCaret could not compute it (its
    0.0 placeholder), so no rule reads a placeholder as a score."""
    if not row:
        return None
    value = row.get(metric)
    if not_computed(metric, value):
        return None
    return as_number(value)


def readable_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A leaderboard or metrics row for evidence: PyCaret's "could not compute" placeholders
    become null, so a model reading the evidence never takes a 0.0 AUC for a score."""
    if row is None:
        return None
    return {k: (None if not_computed(str(k), v) else v) for k, v in row.items()}
