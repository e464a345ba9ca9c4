"""How the studio prints numbers: one helper for metrics, test statistics and p-values, so a
page, the API's text and the copilots' advice write the same value the same way.

Django-free: the templates' filters and the copilots' rules both call it.
"""

from __future__ import annotations

import math
from typing import Any

DIGITS = 4
# Below this a p-value prints as "< 0.0001": more digits say nothing a reader can use.
P_FLOOR = 0.0001


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def metric(value: Any, digits: int = DIGITS) -> str:
    """A score or statistic with `digits` decimals, as PyCaret prints them ("0.9467"); an int
    as itself; anything that is not a number as text, and None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def p_value(value: Any) -> str:
    """A p-value: "< 0.0001" below the floor, else four decimals ("0.0123"); "—" for none."""
    number = _number(value)
    if number is None or not math.isfinite(number):
        return "—"
    if number < P_FLOOR:
        return f"< {P_FLOOR:.{DIGITS}f}"
    return f"{number:.{DIGITS}f}"


def p_clause(value: Any) -> str:
    """The p-value as a clause of a sentence: "p < 0.0001" or "p = 0.0123"; "" for none."""
    text = p_value(value)
    if text == "—":
        return ""
    return f"p {text}" if text.startswith("<") else f"p = {text}"
