"""Class imbalance: when a target's smallest class is too rare, and what that means for ranking
models by Accuracy."""

from __future__ import annotations

from copilots.rules.risks import risk

IMBALANCED_SHARE = 0.2
SEVERE_IMBALANCE_SHARE = 0.05


def minority_share(counts: dict[str, int]) -> float | None:
    """The smallest class's share of the rows; None without counts."""
    total = sum(counts.values())
    if not counts or not total:
        return None
    return min(counts.values()) / total


def is_imbalanced(share: float | None) -> bool:
    return share is not None and share < IMBALANCED_SHARE


def imbalance_severity(share: float | None) -> str | None:
    """ "high" or "medium" for an imbalanced target, None for a balanced one (or no share)."""
    if not is_imbalanced(share):
        return None
    return "high" if share < SEVERE_IMBALANCE_SHARE else "medium"


def sort_metric_risks(*, task: str, metric: str, share: float | None) -> list[dict[str, str]]:
    """Ranking by Accuracy on an imbalanced target rewards a model that ignores the rare class."""
    if task == "classification" and metric == "Accuracy" and is_imbalanced(share):
        return [
            risk(
                "sort metric does not fit an imbalanced target",
                "medium",
                f"models were ranked by Accuracy but the smallest class is {share:.1%} of "
                "the rows; a model that ignores it still scores high. Rank by F1, AUC or "
                "Recall",
            )
        ]
    return []
