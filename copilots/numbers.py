"""Numbers as the copilots read them from stored runs and write them into evidence and advice."""

from __future__ import annotations

from typing import Any


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
