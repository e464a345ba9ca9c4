"""Class imbalance, relative to the number of classes: the smallest class against its fair
share 1/k, and what that means for ranking models by Accuracy and for `fix_imbalance`.

A 44/36/20 three-class split is balanced: its smallest class holds 0.6 of its fair share of
33%. A 3% minority in a binary target holds 0.06 of its fair share of 50%, which is severe.
"""

from __future__ import annotations

from copilots.rules.risks import risk

# The smallest class's share over its fair share 1/k: below these, the target is imbalanced
# (for two classes: below 20% of the rows) or severely so (below 5%).
IMBALANCED_RATIO = 0.4
SEVERE_IMBALANCE_RATIO = 0.1


def minority_share(counts: dict[str, int]) -> float | None:
    """The smallest class's share of the rows; None without counts."""
    total = sum(counts.values())
    if not counts or not total:
        return None
    return min(counts.values()) / total


def fair_share_ratio(counts: dict[str, int]) -> float | None:
    """The smallest class's share over 1/k: 1.0 is perfectly balanced, near 0 very rare."""
    share = minority_share(counts)
    if share is None or len(counts) < 2:
        return None
    return share * len(counts)


def imbalance_severity(counts: dict[str, int]) -> str | None:
    """ "high" or "medium" for an imbalanced target, None for a balanced one (or no counts)."""
    ratio = fair_share_ratio(counts)
    if ratio is None or ratio >= IMBALANCED_RATIO:
        return None
    return "high" if ratio < SEVERE_IMBALANCE_RATIO else "medium"


def is_imbalanced(counts: dict[str, int]) -> bool:
    return imbalance_severity(counts) is not None


def describe(counts: dict[str, int]) -> str:
    """ "the smallest class is 3.0% of the rows, 0.06 of its fair share of 50.0% (2 classes)" """
    share, ratio = minority_share(counts), fair_share_ratio(counts)
    if share is None or ratio is None:
        return "no class counts"
    k = len(counts)
    return (
        f"the smallest class is {share:.1%} of the rows, {ratio:.2f} of its fair share of "
        f"{1 / k:.1%} ({k} classes)"
    )


def imbalance_risks(*, target: str, counts: dict[str, int]) -> list[dict[str, str]]:
    severity = imbalance_severity(counts)
    if severity is None:
        return []
    return [risk("class imbalance", severity, f"'{target}': {describe(counts)}")]


def sort_metric_risks(*, task: str, metric: str, counts: dict[str, int]) -> list[dict[str, str]]:
    """Ranking by Accuracy on an imbalanced target rewards a model that ignores the rare class."""
    if task == "classification" and metric == "Accuracy" and is_imbalanced(counts):
        return [
            risk(
                "sort metric does not fit an imbalanced target",
                "medium",
                f"models were ranked by Accuracy but {describe(counts)}; a model that ignores "
                "the smallest class still scores high. Rank by F1, AUC or Recall",
            )
        ]
    return []
