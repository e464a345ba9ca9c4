"""Target and task inference: which column a dataset is most likely about, and the task it
suggests.

Every column is scored, never just the first name that matches: its name (the usual target
names, including those of common teaching datasets such as `Species`, `Direction`, `Purchase`,
`medv`, `Sales`), its position (targets sit first or last), its type and cardinality (a
low-cardinality category is a better target than a measurement), and a name matching the
dataset's own. ID-like columns, dates, year-like integers and constants are disqualified,
with the reason. The experiment form's default target and the copilots' guess are both the
top candidate.
"""

from __future__ import annotations

import re
from typing import Any

from copilots.rules import columns as col

# Names that almost always mean "the target", compared stripped and lower-cased.
STRONG_NAMES = frozenset(
    {
        "target",
        "label",
        "labels",
        "class",
        "y",
        "outcome",
        "response",
        "result",
        "churn",
        "churned",
        "default",
        "survived",
        "fraud",
        "is_fraud",
        "diagnosis",
        "species",
        "direction",
        "purchase",
        "purchased",
        "medv",
        "sales",
        "grade",
        "approved",
        "status_label",
        "attrition",
        "exited",
        "converted",
    }
)
# Names that are often, not always, the target.
WEAK_NAMES = frozenset(
    {"price", "type", "card", "quality", "income", "score", "rating", "category", "yes", "vote"}
)
# The same words inside a longer name (is_churned, target_class, price_usd) count for less.
NAME_PARTS = re.compile(r"(^|[_\s\-.])(target|label|class|churn|fraud|default|outcome)", re.I)

NAME_STRONG, NAME_WEAK, NAME_PART, NAME_DATASET = 3.0, 2.0, 1.5, 2.0
POSITION_LAST, POSITION_FIRST = 1.0, 0.75
CATEGORY_FEW, BINARY_NUMBER, SMALL_INTEGER, MEASUREMENT = 1.5, 1.0, 0.5, 0.5
MANY_CATEGORIES = -1.5
MISSING_PENALTY = 1.0  # times the missing share
# A category with at most this many values reads as classes.
FEW_CLASSES = 20
# An integer column with at most this many distinct values reads as class labels.
CLASSIFICATION_MAX_UNIQUE = 20
TOP_CANDIDATES = 5


def infer_task(column: dict[str, Any]) -> str:
    """The task a target column suggests: "classification" for categories, booleans, two-valued
    numbers and small sets of integers; "regression" otherwise."""
    kind = column.get("kind")
    if kind in ("categorical", "boolean"):
        return "classification"
    unique = column.get("unique") or 0
    if kind == "numeric" and (
        unique <= 2 or (col.is_integer(column) and unique <= CLASSIFICATION_MAX_UNIQUE)
    ):
        return "classification"
    return "regression"


def disqualified(column: dict[str, Any], n_rows: int) -> str | None:
    """Why the column cannot be a target, or None."""
    if col.is_constant(column):
        return "it has one value (or none)"
    if col.is_id_like(column, n_rows) or (
        col.has_id_name(column) and (column.get("unique") or 0) >= 0.9 * n_rows
    ):
        return "it is ID-like (a different value in every row)"
    if col.is_date_like(column):
        return "it is a date"
    if col.is_year_like(column):
        return "it holds calendar years"
    return None


def _stem(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def score_column(
    column: dict[str, Any], *, position: int, n_cols: int, n_rows: int, dataset_name: str = ""
) -> tuple[float, list[str]]:
    """(score, reasons) for one column that is not disqualified."""
    name = str(column.get("name", ""))
    lowered = name.strip().lower()
    score, reasons = 0.0, []
    if lowered in STRONG_NAMES:
        score += NAME_STRONG
        reasons.append("its name is a usual target name")
    elif lowered in WEAK_NAMES:
        score += NAME_WEAK
        reasons.append("its name is often a target")
    elif NAME_PARTS.search(lowered):
        score += NAME_PART
        reasons.append("its name contains a usual target word")
    stem = _stem(dataset_name.rsplit(".", 1)[0]) if dataset_name else ""
    if stem and len(stem) >= 3 and _stem(name) == stem:
        score += NAME_DATASET
        reasons.append("the dataset is named after it")
    if n_cols > 1 and position == n_cols - 1:
        score += POSITION_LAST
        reasons.append("it is the last column")
    elif n_cols > 1 and position == 0:
        score += POSITION_FIRST
        reasons.append("it is the first column")
    kind, unique = column.get("kind"), column.get("unique") or 0
    if kind in ("categorical", "boolean"):
        if unique <= FEW_CLASSES:
            score += CATEGORY_FEW
            reasons.append(f"a category with {unique} values")
        else:
            score += MANY_CATEGORIES
            reasons.append(f"a category with many values ({unique})")
    elif kind == "numeric":
        if unique == 2:
            score += BINARY_NUMBER
            reasons.append("two values")
        elif col.is_integer(column) and unique <= CLASSIFICATION_MAX_UNIQUE:
            score += SMALL_INTEGER
            reasons.append(f"an integer with {unique} values")
        else:
            score += MEASUREMENT
            reasons.append("a numeric measurement")
    missing = (column.get("missing") or 0) / max(1, n_rows)
    if missing:
        score -= MISSING_PENALTY * missing
        reasons.append(f"{missing:.0%} missing")
    return round(score, 3), reasons


def rank_targets(
    profile: list[dict[str, Any]], n_rows: int, *, dataset_name: str = ""
) -> list[dict[str, Any]]:
    """Every column that can be a target, best first: `{column, score, task, reasons}`.

    Ties keep the columns' order from the end (a later column wins a tie).
    """
    ranked = []
    n_cols = len(profile)
    for position, column in enumerate(profile):
        if disqualified(column, n_rows):
            continue
        score, reasons = score_column(
            column, position=position, n_cols=n_cols, n_rows=n_rows, dataset_name=dataset_name
        )
        ranked.append(
            {
                "column": column["name"],
                "score": score,
                "task": infer_task(column),
                "reasons": reasons,
                "_position": position,
            }
        )
    ranked.sort(key=lambda c: (-c["score"], -c["_position"]))
    for candidate in ranked:
        del candidate["_position"]
    return ranked


def disqualified_columns(
    profile: list[dict[str, Any]], n_rows: int, *, dates: str | None = None
) -> list[dict[str, str]]:
    """`{column, reason}` for each column ruled out as a target; `dates` is a series' date
    column (`copilots.rules.tasks.series_of`), whatever its values look like alone."""
    found = []
    for column in profile:
        reason = disqualified(column, n_rows)
        if reason and column["name"] == dates:
            reason = "it holds the series' dates"
        if reason:
            found.append({"column": column["name"], "reason": reason})
    return found


def top_target(
    profile: list[dict[str, Any]], n_rows: int, *, dataset_name: str = ""
) -> dict[str, Any] | None:
    """The best candidate, or None when every column is disqualified."""
    ranked = rank_targets(profile, n_rows, dataset_name=dataset_name)
    return ranked[0] if ranked else None


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
    elif target.get("kind") in ("categorical", "boolean"):
        reason = (
            f"'{name}' holds labels ({unique} distinct values): use a classification experiment"
        )
    else:
        reason = (
            f"'{name}' has only {unique} distinct values, like class labels: a classification "
            "experiment may fit it better"
        )
    return {"task": suggested, "reason": reason}
