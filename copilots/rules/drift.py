"""What a drift report means: the risks it shows, and the decision it calls for (retrain, watch,
or no action)."""

from __future__ import annotations

from typing import Any

from copilots.numbers import fmt
from copilots.rules.risks import risk, sort_risks
from engine.numbers import p_clause

RETRAIN, WATCH, NO_ACTION, NO_REPORT = "retrain", "watch", "no action", "no report"


def measure(feature: dict[str, Any]) -> str:
    """ "ks 0.52, p < 0.0001": a feature's (or the predictions') test and result."""
    test = feature.get("test") or "test"
    text = f"{test} {fmt(feature.get('statistic'))}"
    p_value = feature.get("p_value")
    if p_value is not None:
        text += f", {p_clause(p_value)}"
    return text


def drift_risks(report: dict[str, Any]) -> list[dict[str, str]]:
    """Dataset drift is high; a drifted feature or prediction distribution is medium."""
    if report.get("status", "ok") != "ok":
        return []
    risks = []
    if report.get("dataset_drift"):
        risks.append(
            risk(
                "dataset drift",
                "high",
                f"{report.get('drift_share', 0):.0%} of the tested features drifted",
            )
        )
    prediction = report.get("prediction_drift") or {}
    if prediction.get("drifted"):
        risks.append(risk("prediction drift", "medium", measure(prediction)))
    for feature in report.get("features") or []:
        if feature.get("drifted"):
            risks.append(risk(f"drift: {feature['name']}", "medium", measure(feature)))
    return sort_risks(risks)


def drift_decision(report: dict[str, Any]) -> str:
    """Retrain when the data as a whole drifted, watch when some features did, else nothing."""
    if report.get("status", "ok") != "ok":
        return NO_REPORT
    if report.get("dataset_drift"):
        return RETRAIN
    moved = any(f.get("drifted") for f in report.get("features") or [])
    if moved or (report.get("prediction_drift") or {}).get("drifted"):
        return WATCH
    return NO_ACTION
