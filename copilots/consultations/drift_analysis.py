"""Drift analysis: which inputs of a deployment moved away from the training data, how far,
and whether to retrain. It reads the deployment's drift report (engine.selectors.deployments)."""

from __future__ import annotations

import logging
from typing import Any

from copilots import prompting
from copilots.consultations.base import narrative
from copilots.rules.drift import NO_ACTION, RETRAIN, WATCH, drift_decision, drift_risks, measure
from engine.models import Deployment

logger = logging.getLogger(__name__)

TYPE = "drift_analysis"
ROLE = "drift analyst copilot"
FEATURES_CAP = 60


def check(deployment: Deployment) -> None:
    return None


def links(deployment: Deployment) -> dict[str, Any]:
    return {
        "deployment": deployment,
        "pipeline": deployment.pipeline,
        "project": deployment.project,
    }


def drift_report(deployment: Deployment) -> dict[str, Any]:
    """The report the deployment page and `GET /deployments/{slug}/drift` show."""
    from engine.selectors.deployments import deployment_drift_report

    try:
        return deployment_drift_report(deployment=deployment)
    except Exception as exc:  # a missing Parquet copy must not take the copilot down
        logger.warning("drift report unavailable for deployment %s: %s", deployment.pk, exc)
        return {"status": "unavailable", "detail": f"The drift report failed: {type(exc).__name__}"}


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    kept = {k: item.get(k) for k in ("name", "kind", "test", "statistic", "p_value", "threshold")}
    kept["drifted"] = bool(item.get("drifted"))
    histogram = item.get("histogram") or {}
    if histogram.get("kind") == "categorical":
        kept["shares"] = {
            "categories": histogram.get("categories", [])[:9],
            "reference": histogram.get("reference", [])[:9],
            "current": histogram.get("current", [])[:9],
        }
    elif histogram.get("kind") == "numeric":
        kept["shares"] = {
            "edges": [round(e, 4) for e in histogram.get("edges", [])],
            "reference": histogram.get("reference", []),
            "current": histogram.get("current", []),
        }
    return kept


def build_evidence(deployment: Deployment, **_: Any) -> dict[str, Any]:
    pipeline = deployment.pipeline
    report = drift_report(deployment)
    features = [_feature(f) for f in report.get("features") or []]
    # Drifted first, the largest statistic first within each group.
    features.sort(key=lambda f: (not f["drifted"], -(f.get("statistic") or 0)))
    return {
        "decision": drift_decision(report),
        "deployment": {
            "id": deployment.pk,
            "slug": deployment.slug,
            "active": deployment.is_active,
            "pipeline": {
                "id": pipeline.pk,
                "name": pipeline.name,
                "version": pipeline.version,
                "model_id": pipeline.model_id,
                "task": pipeline.task,
                "target": pipeline.target,
                "metrics_at_promotion": pipeline.metrics,
            },
        },
        "report": {
            "status": report.get("status", "ok"),
            "detail": report.get("detail"),
            "reference_rows": report.get("reference_rows"),
            "current_rows": report.get("current_rows"),
            "drift_share": report.get("drift_share"),
            "dataset_drift": report.get("dataset_drift"),
            "prediction_drift": {
                k: (report.get("prediction_drift") or {}).get(k)
                for k in ("test", "statistic", "p_value", "drifted")
            }
            if report.get("prediction_drift")
            else None,
            "features": features[:FEATURES_CAP],
            "n_features": len(features),
        },
    }


def needs_llm(evidence: dict[str, Any]) -> bool:
    """Without a report there is nothing for a model to read."""
    return evidence["report"].get("status", "ok") == "ok"


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You read a deployment's drift report (training data as reference, logged "
                "prediction inputs as current) and say which features moved, how much (use "
                "the test statistics and the reference/current shares), whether the "
                "predictions moved, and whether to retrain now, watch, or do nothing."
            ),
            contract=prompting.BASE_CONTRACT,
        ),
        prompting.user_message("Analyse this deployment's drift report.", {"evidence": evidence}),
    ]


def parse(text: str) -> dict[str, Any]:
    return prompting.normalise_common(prompting.parse_reply(text))


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    report = evidence["report"]
    deployment = evidence["deployment"]
    status = report.get("status", "ok")
    if status != "ok":
        return {
            "reasoning_summary": (
                f"There is no drift report for {deployment['slug']} yet: "
                f"{report.get('detail') or status}."
            ),
            "recommendations": [
                "Send more predictions through the deployment; the report needs enough logged "
                "inputs to compare with the training data."
            ],
            "risks": [],
        }
    features = report["features"]
    drifted = [f for f in features if f["drifted"]]
    share = report.get("drift_share") or 0
    sentences = [
        f"{report.get('current_rows')} logged inputs were compared with "
        f"{report.get('reference_rows')} training rows: {len(drifted)} of "
        f"{report.get('n_features', len(features))} features drifted ({share:.0%})."
    ]
    if drifted:
        moved = "; ".join(f"{f['name']} ({measure(f)})" for f in drifted[:6])
        sentences.append(f"Moved: {moved}.")
    prediction = report.get("prediction_drift") or {}
    if prediction:
        sentences.append(
            "The predictions' distribution "
            + ("moved too" if prediction.get("drifted") else "did not move")
            + f" ({measure(prediction)})."
        )
    recommendations = []
    decision = drift_decision(report)
    if decision == RETRAIN:
        recommendations.append(
            "Retrain on recent data: most inputs no longer look like the training data."
        )
    elif decision == WATCH:
        recommendations.append(
            "Watch: a few features moved. Check whether the drifted features matter to the "
            "model and whether the upstream data changed; retrain if accuracy drops."
        )
    elif decision == NO_ACTION:
        recommendations.append("No action needed; keep watching the report.")
    if prediction.get("drifted"):
        recommendations.append(
            "The predictions moved: compare them with real outcomes as soon as you have labels."
        )
    return {
        "reasoning_summary": " ".join(sentences),
        "recommendations": recommendations,
        "risks": drift_risks(report),
    }


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    return {**narrative(reply, offline), "risks": offline["risks"]}, []
