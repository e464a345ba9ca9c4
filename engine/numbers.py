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


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 row", "2 rows": a count with its noun in the right number."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


# Whole numbers in this range read as years ("2007"), never with a thousands separator.
YEAR_RANGE = (1000, 2100)


def looks_like_year_or_id(value: Any, name: str = "") -> bool:
    """Whether `value` (of a column called `name`) is a year or an identifier, which print
    without thousands separators: a column named like year/id, or a whole number 1000–2100."""
    import re

    if re.search(r"(^|[^a-z])(year|yr|id|code|zip)s?($|[^a-z])", str(name).lower()):
        return True
    number = _number(value)
    return (
        number is not None
        and math.isfinite(number)
        and YEAR_RANGE[0] <= abs(number) <= YEAR_RANGE[1]
    )
