"""Deployment review: deterministic risk checks on a promoted pipeline, and a verdict.

The verdict is never milder than the checks allow: a high-severity risk means DO NOT DEPLOY,
a medium one at least APPROVE WITH CAVEATS, whatever the LLM says. A verdict that breaks the
three-literal contract is replaced by the deterministic one, with a note.
"""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import narrative
from copilots.numbers import as_number, fmt
from copilots.rules.columns import class_counts, top_classes
from copilots.rules.environment import serving_environment, version_skew_risks
from copilots.rules.fitness import margin_risks, overfit_risks
from copilots.rules.imbalance import minority_share, sort_metric_risks
from copilots.rules.preprocessing import preprocessing_risks, train_rows
from copilots.rules.risks import SEVERITIES, sort_risks, verdict_floor
from copilots.rules.sample_size import sample_size_risks
from copilots.verdicts import verdict_level
from engine.metrics import DEFAULT_METRIC
from engine.models import Pipeline

TYPE = "deployment_review"
ROLE = "deployment reviewer copilot"
DEFAULT_TRAIN_SIZE = 0.7  # PyCaret's setup default, for runs whose summary has no train shape


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
    experiment = run.experiment
    dataset = experiment.dataset
    task = pipeline.task or experiment.task
    metric = run.leaderboard_sort or DEFAULT_METRIC.get(task, "")
    best = next((r for r in run.leaderboard if r.get("model_id") == run.model_id), None)
    best = best or (run.leaderboard[0] if run.leaderboard else None)
    runner_up = next((r for r in run.leaderboard if r is not best), None)
    features = pipeline.feature_schema or run.feature_schema
    feature_names = [str(f.get("name")) for f in features]
    profile = {c["name"]: c for c in dataset.columns}
    missing_features = [n for n in feature_names if (profile.get(n) or {}).get("missing")]
    categorical = [
        f.get("name")
        for f in features
        if f.get("kind") in ("categorical", "text")
        or (profile.get(f.get("name")) or {}).get("kind") == "categorical"
    ]
    rows = train_rows(run.preprocessing)
    if rows is None:
        train_size = as_number((experiment.setup_options or {}).get("train_size"))
        rows = int(dataset.n_rows * (train_size or DEFAULT_TRAIN_SIZE))
    counts: dict[str, int] = {}
    if task == "classification" and pipeline.target:
        counts = class_counts(dataset, pipeline.target)
    share = minority_share(counts)
    evidence: dict[str, Any] = {
        "pipeline": {
            "id": pipeline.pk,
            "name": pipeline.name,
            "version": pipeline.version,
            "model_id": pipeline.model_id,
            "model_name": pipeline.model_name,
            "task": task,
            "target": pipeline.target,
            "metrics_at_promotion": pipeline.metrics,
        },
        "origin_run": {
            "id": run.pk,
            "plan": run.plan,
            "sort_metric": metric,
            "leaderboard_top": run.leaderboard[:5],
            "leaderboard_size": len(run.leaderboard),
            "best": best,
            "runner_up": runner_up,
            "holdout_metrics": run.metrics,
            "preprocessing": run.preprocessing,
            "environment": run.environment,
        },
        "training_data": {
            "dataset_id": dataset.pk,
            "rows": dataset.n_rows,
            "train_rows": rows,
            "n_features": len(feature_names),
            "features": feature_names[:100],
            "features_with_missing_values": missing_features[:50],
            "categorical_features": categorical[:50],
            "class_counts": top_classes(counts),
            "minority_share": round(share, 4) if share is not None else None,
        },
        "serving_environment": serving_environment(),
    }
    evidence["risks"] = risk_checks(evidence)
    evidence["deterministic_verdict"] = verdict_floor(evidence["risks"])
    return evidence


def risk_checks(evidence: dict[str, Any]) -> list[dict[str, str]]:
    """Every rule that applies to a pipeline, most severe first."""
    pipeline, run, data = evidence["pipeline"], evidence["origin_run"], evidence["training_data"]
    metric = run["sort_metric"]
    return sort_risks(
        overfit_risks(
            task=pipeline["task"],
            metric=metric,
            best=run.get("best") or {},
            holdout=run.get("holdout_metrics") or {},
        )
        + margin_risks(metric=metric, best=run.get("best"), runner_up=run.get("runner_up"))
        + sample_size_risks(train_rows=data["train_rows"], n_features=data["n_features"])
        + preprocessing_risks(
            preprocessing=run.get("preprocessing") or {},
            missing_features=data["features_with_missing_values"],
            categorical_features=data["categorical_features"],
        )
        + sort_metric_risks(task=pipeline["task"], metric=metric, share=data["minority_share"])
        + version_skew_risks(
            trained=run.get("environment") or {}, serving=evidence["serving_environment"]
        )
    )


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
                "them, explain them, and give a verdict."
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
    sentences = [
        f"{pipeline['name']} v{pipeline['version']} is {model}"
        f" from run {run['id']}, with CV {metric} {fmt(best.get(metric))} and holdout "
        f"{metric} {fmt((run.get('holdout_metrics') or {}).get(metric))}."
    ]
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
        "overfit": "Look for leakage (a feature known only after the outcome) and re-validate "
        "on fresh data before deploying.",
        "tiny margin": "The top models are tied: prefer the simpler, faster one.",
        "small training sample": "Collect more rows before trusting the scores.",
        "few rows per feature": "Reduce features (feature_selection or ignore_features) or "
        "collect more rows.",
        "no imputer": "Turn imputation back on (imputation_type='simple') and retrain.",
        "no encoder": "Turn preprocessing back on so categories are encoded, and retrain.",
        "sort metric": "Re-run the comparison sorted by F1, AUC or Recall.",
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
