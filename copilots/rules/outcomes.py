"""What a clustering, anomaly-detection or forecasting run found, judged by the task's own
measures: a cluster that holds almost every row, a flagged share far from the anomaly fraction
the run was asked for, and forecasts asked for further ahead than the run validated.

Those tasks have no classification metrics, and clustering and anomaly detection no holdout:
`applies` says which of the supervised checks a task's run can have at all.
"""

from __future__ import annotations

from typing import Any

from copilots.numbers import as_number, fmt
from copilots.rules.risks import risk

SUPERVISED = ("classification", "regression")
UNSUPERVISED = ("clustering", "anomaly")
# One cluster holding more than this share of the rows is hardly a clustering.
DOMINANT_CLUSTER = 0.9
# A flagged share outside [fraction / FAR, fraction * FAR], and this far from it, is far.
FAR, FAR_MIN_GAP = 2.0, 0.01
DOMINANT_RISK = "one cluster holds most rows"
FLAGGED_RISK = "flagged share far from the anomaly fraction"
HORIZON_RISK = "forecast horizon beyond the validated window"
# Which of the supervised checks apply to a task's run.
CHECKS = {
    "leakage": SUPERVISED,
    "overfit": (*SUPERVISED, "time_series"),  # a forecaster has CV and a held-out window
    "margin": (*SUPERVISED, "time_series"),
    # rows per feature is about generalising to new rows; a series' length is fh and fold's
    "sample_size": SUPERVISED,
    "preprocessing": (*SUPERVISED, *UNSUPERVISED),  # a univariate series has no features
}


def applies(check: str, task: str) -> bool:
    """Whether the supervised check `check` applies to a run of `task` (an unknown task gets
    them all, as before the new tasks)."""
    return task in CHECKS[check] or task not in (*UNSUPERVISED, "time_series")


def dominant_cluster_risks(summary: dict[str, Any]) -> list[dict[str, str]]:
    """A cluster that holds over DOMINANT_CLUSTER of the rows: the model found little structure.

    `summary` is a clustering run's (`{rows, clusters: [{label, rows, share}]}`).
    """
    clusters = summary.get("clusters") or []
    if len(clusters) < 2:
        return []
    biggest = max(clusters, key=lambda c: as_number(c.get("share")) or 0)
    share = as_number(biggest.get("share")) or 0
    if share <= DOMINANT_CLUSTER:
        return []
    return [
        risk(
            DOMINANT_RISK,
            "medium",
            f"'{biggest.get('label')}' holds {share:.0%} of the {summary.get('rows')} rows "
            f"({biggest.get('rows')}), the other {len(clusters) - 1} cluster(s) the rest: the "
            "clustering found little structure; try normalize=True, another num_clusters or "
            "another model",
        )
    ]


def flagged_rate_risks(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The share of rows the detector flagged far from the fraction it was given.

    `summary` is an anomaly run's (`{rows, flagged, flagged_share, fraction}`).
    """
    fraction, share = as_number(summary.get("fraction")), as_number(summary.get("flagged_share"))
    if not fraction or share is None:
        return []
    far = share > fraction * FAR or share < fraction / FAR
    if not far or abs(share - fraction) < FAR_MIN_GAP:
        return []
    return [
        risk(
            FLAGGED_RISK,
            "medium",
            f"fraction={fmt(fraction)} was asked for, but the model flagged {share:.1%} of the "
            f"rows ({summary.get('flagged')} of {summary.get('rows')}): tied or repeated rows "
            "move its threshold; check the flagged rows before trusting the rate",
        )
    ]


def horizon_risks(*, horizon: int | None, validated: int | None) -> list[dict[str, str]]:
    """Forecasts asked for further ahead than the held-out window the run validated on.

    `validated` is the run's test window (PyCaret holds out the last fh points), `horizon` the
    longest forecast it made or a deployment of it was asked for.
    """
    if not horizon or not validated or horizon <= validated:
        return []
    return [
        risk(
            HORIZON_RISK,
            "medium",
            f"forecasts of up to {horizon} periods ahead, but the run validated only the last "
            f"{validated} (its test window): errors beyond {validated} periods were never "
            f"measured; retrain with fh={horizon} to validate that far",
        )
    ]


def outcome_risks(task: str, facts: dict[str, Any]) -> list[dict[str, str]]:
    """The task-specific checks of a run's facts (`copilots.facts.model_facts`)."""
    summary = facts.get("summary") or {}
    if task == "clustering":
        return dominant_cluster_risks(summary)
    if task == "anomaly":
        return flagged_rate_risks(summary)
    if task == "time_series":
        horizon = facts.get("forecast_horizon") or {}
        return horizon_risks(horizon=horizon.get("asked"), validated=horizon.get("validated"))
    return []


def describe_clusters(summary: dict[str, Any]) -> str:
    """ "3 clusters in 150 rows: Cluster 0 38 (25%), ..." """
    clusters = summary.get("clusters") or []
    sizes = ", ".join(
        f"{c.get('label')} {c.get('rows')} ({as_number(c.get('share')) or 0:.0%})"
        for c in clusters[:10]
    )
    more = f" and {len(clusters) - 10} more" if len(clusters) > 10 else ""
    return f"{len(clusters)} clusters in {summary.get('rows')} rows: {sizes}{more}"


def describe_flagged(summary: dict[str, Any]) -> str:
    """ "8 of the 150 rows (5.3%; fraction=0.05 was asked for)" """
    share = as_number(summary.get("flagged_share")) or 0
    asked = ""
    if summary.get("fraction") is not None:
        asked = f"; fraction={fmt(summary['fraction'])} was asked for"
    return f"{summary.get('flagged')} of the {summary.get('rows')} rows ({share:.1%}{asked})"
