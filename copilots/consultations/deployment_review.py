"""Deployment review: deterministic risk checks on a promoted pipeline, and a verdict.

The verdict is never milder than the checks allow: a high-severity risk means DO NOT DEPLOY,
a medium one at least APPROVE WITH CAVEATS, whatever the LLM says. A verdict that breaks the
three-literal contract is replaced by the deterministic one, with a note.
"""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import narrative
from copilots.facts import model_facts
from copilots.numbers import fmt, readable_row, score_of
from copilots.rules import outcomes
from copilots.rules.checklist import model_risks
from copilots.rules.columns import top_classes
from copilots.rules.imbalance import minority_share
from copilots.rules.risks import SEVERITIES, verdict_floor
from copilots.verdicts import verdict_level
from engine.models import Pipeline

TYPE = "deployment_review"
ROLE = "deployment reviewer copilot"
# What a run of each task without a holdout found, from its summary.
FOUND_KEYS = {
    "clustering": ("rows", "clusters", "can_predict"),
    "anomaly": ("rows", "flagged", "flagged_share", "fraction"),
}


def check(pipeline: Pipeline) -> None:
    return None


def links(pipeline: Pipeline) -> dict[str, Any]:
    run = pipeline.origin_run
    return {
        "pipeline": pipeline,
        "run": run,
        "experiment": run.experiment,
        "project": pipeline.project,
    }


# Evidence.


def build_evidence(pipeline: Pipeline, **_: Any) -> dict[str, Any]:
    run = pipeline.origin_run
    facts = model_facts(run, pipeline)
    counts = facts["class_counts"]
    share = minority_share(counts)
    evidence: dict[str, Any] = {
        "pipeline": {
            "id": pipeline.pk,
            "name": pipeline.name,
            "version": pipeline.version,
            "model_id": pipeline.model_id,
            "model_name": pipeline.model_name,
            "task": facts["task"],
            "target": facts["target"],
            "metrics_at_promotion": readable_row(pipeline.metrics),
        },
        "origin_run": {
            "id": run.pk,
            "plan": run.plan,
            "sort_metric": facts["metric"],
            "leaderboard_top": [readable_row(r) for r in run.leaderboard[:5]],
            "leaderboard_size": len(run.leaderboard),
            "best": readable_row(facts["best"]),
            "runner_up": readable_row(facts["runner_up"]),
            "holdout_metrics": readable_row(run.metrics),
            "preprocessing": run.preprocessing,
            "environment": run.environment,
            # the per-fold scores stay out of the prompt: the means above say enough
            "outcome": {k: v for k, v in (run.outcome or {}).items() if k != "cv_folds"},
        },
        "training_data": {
            "dataset_id": run.experiment.dataset_id,
            "rows": run.experiment.dataset.n_rows,
            "train_rows": facts["train_rows"],
            "n_features": facts["n_features"],
            "features": facts["features"][:100],
            "features_with_missing_values": facts["missing_features"][:50],
            "categorical_features": facts["categorical_features"][:50],
            "class_counts": top_classes(counts),
            "minority_share": round(share, 4) if share is not None else None,
            "leakage_suspects": facts["leakage_suspects"],
            "id_like_features": facts["id_like_features"],
        },
        "serving_environment": facts["serving_environment"],
        "what_it_found": {k: facts["summary"].get(k) for k in FOUND_KEYS.get(facts["task"], ())},
        "forecast_horizon": facts["forecast_horizon"],
    }
    evidence["risks"] = model_risks(facts)
    evidence["deterministic_verdict"] = verdict_floor(evidence["risks"])
    return evidence


# Messages and parsing.

CONTRACT = (
    prompting.BASE_CONTRACT
    + """
- "verdict": a string that starts with exactly one of "APPROVE", "APPROVE WITH CAVEATS: <the \
caveats>" or "DO NOT DEPLOY: <the reasons>". Any high-severity risk in the evidence means \
DO NOT DEPLOY; any medium one means at least APPROVE WITH CAVEATS."""
)


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You review a promoted PyCaret pipeline before it is deployed. The risk checks "
                "in the evidence were computed deterministically, each with a severity; weigh "
                "them, explain them, and give a verdict. Quote only the metrics of the "
                "pipeline's task: clustering and anomaly detection have no holdout (their "
                "what_it_found says what the model found), a forecast's holdout is the last fh "
                "periods."
            ),
            contract=CONTRACT,
        ),
        prompting.user_message("Review this pipeline for deployment.", {"evidence": evidence}),
    ]


def parse(text: str) -> dict[str, Any]:
    reply = prompting.parse_reply(text)
    parsed = prompting.normalise_common(reply)
    verdict = reply.get("verdict")
    parsed["verdict"] = prompting.clean_text(verdict, 1_000) if verdict is not None else None
    return parsed


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    risks = evidence["risks"]
    pipeline = evidence["pipeline"]
    run = evidence["origin_run"]
    metric = run["sort_metric"]
    best = run.get("best") or {}
    model = pipeline["model_name"] or pipeline["model_id"]
    sentences = [f"{pipeline['name']} v{pipeline['version']} is {model} from run {run['id']}"]
    found = evidence.get("what_it_found") or {}
    task = pipeline["task"]
    if task == "clustering":
        sentences[0] += f": {outcomes.describe_clusters(found)}, Silhouette "
        sentences[0] += f"{fmt(score_of(best, 'Silhouette'))} on the rows it was fitted on."
    elif task == "anomaly":
        sentences[0] += f": on its training data it flagged {outcomes.describe_flagged(found)}."
    else:
        horizon = evidence.get("forecast_horizon") or {}
        window = f" (the last {horizon['validated']} periods)" if horizon.get("validated") else ""
        sentences[0] += (
            f", with CV {metric} {fmt(score_of(best, metric))} and holdout{window} "
            f"{metric} {fmt(score_of(run.get('holdout_metrics'), metric))}."
        )
    counts = {s: sum(1 for r in risks if r["severity"] == s) for s in SEVERITIES}
    if risks:
        sentences.append(
            f"The checks found {counts['high']} high, {counts['medium']} medium and "
            f"{counts['low']} low risk(s)."
        )
    else:
        sentences.append("No risk check fired.")
    recommendations = []
    advice_for = {
        "leakage suspect": "A feature alone predicts the target: if it is known only after the "
        "outcome, add it to ignore_features and retrain.",
        "ID-like feature": "Add the ID-like features to ignore_features and retrain: the model "
        "can only memorise them.",
        "overfit": "Look for leakage (a feature known only after the outcome) and re-validate "
        "on fresh data before deploying.",
        "tiny margin": "The top models are tied: prefer the simpler, faster one.",
        "small training sample": "Collect more rows before trusting the scores.",
        "few rows per feature": "Reduce features (feature_selection or ignore_features) or "
        "collect more rows.",
        "no imputer": "Turn imputation back on (imputation_type='simple') and retrain.",
        "no encoder": "Turn preprocessing back on so categories are encoded, and retrain.",
        "sort metric": "Re-run the comparison sorted by F1, AUC or Recall.",
        outcomes.DOMINANT_RISK: "One cluster holds almost every row: recluster with "
        "normalize=True or another num_clusters before deploying.",
        outcomes.FLAGGED_RISK: "Set fraction to the anomaly rate you expect, or find why the "
        "model flags another share (repeated rows), before deploying.",
        outcomes.HORIZON_RISK: "Retrain with fh as long as the forecasts asked of it, or ask "
        "for no more periods than were validated.",
        "version skew": "Retrain under the serving environment's library versions, or serve "
        "with the versions it was trained with.",
    }
    for item in risks:
        if item["severity"] == "low":
            continue
        for key, text in advice_for.items():
            if item["name"].startswith(key) and text not in recommendations:
                recommendations.append(text)
    if not recommendations:
        recommendations.append("Deploy, and watch the drift report once traffic arrives.")
    return {
        "reasoning_summary": " ".join(sentences),
        "recommendations": recommendations,
        "verdict": evidence["deterministic_verdict"],
        "risks": risks,
    }


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    floor_verdict = evidence["deterministic_verdict"]
    floor = verdict_level(floor_verdict) or 0
    proposed = reply.get("verdict")
    level = verdict_level(proposed)
    if level is None:
        verdict = floor_verdict
        notes.append(
            "The model's verdict did not start with APPROVE, APPROVE WITH CAVEATS: or "
            "DO NOT DEPLOY:, so the verdict of the risk checks is shown."
        )
    elif level < floor:
        verdict = floor_verdict
        notes.append(
            "The model's verdict was milder than the risk checks allow; the checks' verdict stands."
        )
    else:
        verdict = proposed
    return {**narrative(reply, offline), "verdict": verdict, "risks": offline["risks"]}, notes
