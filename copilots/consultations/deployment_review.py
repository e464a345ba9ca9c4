"""Deployment review: deterministic risk checks on a promoted pipeline, and a verdict.

The verdict is never milder than the checks allow: a high-severity risk means DO NOT DEPLOY,
a medium one at least APPROVE WITH CAVEATS, whatever the LLM says. A verdict that breaks the
three-literal contract is replaced by the deterministic one, with a note.
"""

from __future__ import annotations

import ast
import importlib.metadata
import logging
import platform
import re
from typing import Any

from copilots import prompting
from copilots.consultations.base import as_number, fmt, risk, sort_risks
from copilots.verdicts import APPROVE, APPROVE_WITH_CAVEATS, DO_NOT_DEPLOY, verdict_level
from engine.metrics import BOUNDED_METRICS, DEFAULT_METRIC, higher_is_better
from engine.models import Pipeline

logger = logging.getLogger(__name__)

TYPE = "deployment_review"
ROLE = "deployment reviewer copilot"

OVERFIT_CV = 0.999
GAP_HIGH, GAP_MEDIUM = 0.10, 0.05
RELATIVE_GAP_HIGH, RELATIVE_GAP_MEDIUM = 0.5, 0.25
TINY_MARGIN = 0.005
ROWS_HIGH, ROWS_MEDIUM, ROWS_LOW = 100, 300, 1000
PER_FEATURE_HIGH, PER_FEATURE_MEDIUM, PER_FEATURE_LOW = 5, 10, 20
IMBALANCED_SHARE = 0.2
PACKAGES = {"pycaret": "pycaret", "sklearn": "scikit-learn", "pandas": "pandas"}
# A pickled pipeline is tied to these libraries; a different minor version may not load.
PACKAGE_SEVERITY = {"pycaret": "high", "sklearn": "high", "pandas": "medium"}


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


def serving_environment() -> dict[str, str | None]:
    """Library versions of this (serving) process, read without importing them."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for key, distribution in PACKAGES.items():
        try:
            versions[key] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[key] = None
    return versions


def _shape_rows(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0]) if as_number(value[0]) is not None else None
    if isinstance(value, str):
        try:
            parsed = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            match = re.match(r"\D*(\d+)", value)
            return int(match.group(1)) if match else None
        return _shape_rows(parsed)
    return None


def _lookup(preprocessing: dict[str, Any], *names: str) -> tuple[bool, Any]:
    lowered = {str(k).strip().lower(): v for k, v in preprocessing.items()}
    for name in names:
        if name in lowered:
            return True, lowered[name]
    return False, None


def _class_counts(dataset, target: str) -> dict[str, int]:
    from engine.selectors.datasets import dataset_class_counts

    try:
        return dataset_class_counts(dataset, target)
    except Exception:
        logger.warning("class counts unavailable for dataset %s", dataset.pk, exc_info=True)
        return {}


def _version_key(version: str | None) -> tuple[str, ...]:
    return tuple(re.findall(r"\d+", version or ""))[:3]


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
    found, shape = _lookup(run.preprocessing, "transformed train set shape", "train data shape")
    train_rows = _shape_rows(shape) if found else None
    train_size = as_number((experiment.setup_options or {}).get("train_size")) or 0.7
    if train_rows is None:
        train_rows = int(dataset.n_rows * train_size)
    class_counts: dict[str, int] = {}
    if task == "classification" and pipeline.target:
        class_counts = _class_counts(dataset, pipeline.target)
    total = sum(class_counts.values())
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
            "train_rows": train_rows,
            "n_features": len(feature_names),
            "features": feature_names[:100],
            "features_with_missing_values": missing_features[:50],
            "categorical_features": categorical[:50],
            "class_counts": dict(sorted(class_counts.items(), key=lambda kv: -kv[1])[:20]),
            "minority_share": round(min(class_counts.values()) / total, 4) if total else None,
        },
        "serving_environment": serving_environment(),
    }
    evidence["risks"] = risk_checks(evidence)
    evidence["deterministic_verdict"] = deterministic_verdict(evidence["risks"])
    return evidence


# The checks.


def _overfit(evidence: dict[str, Any]) -> list[dict[str, str]]:
    run = evidence["origin_run"]
    task = evidence["pipeline"]["task"]
    metric = run["sort_metric"]
    best = run.get("best") or {}
    found = []
    watched = [metric, DEFAULT_METRIC.get(task, "")]
    for name in dict.fromkeys(m for m in watched if m in BOUNDED_METRICS):
        value = as_number(best.get(name))
        if value is not None and value >= OVERFIT_CV:
            found.append(
                risk(
                    "overfit: perfect cross-validation score",
                    "high",
                    f"CV {name} = {fmt(value)} (≥ {OVERFIT_CV}); a near-perfect score usually "
                    "means leakage or a trivial target",
                )
            )
            break
    cv = as_number(best.get(metric))
    holdout = as_number((run.get("holdout_metrics") or {}).get(metric))
    if cv is not None and holdout is not None:
        if higher_is_better(metric):
            gap = cv - holdout
            label = f"{fmt(gap)} below"
            high, medium = gap >= GAP_HIGH, gap >= GAP_MEDIUM
        else:
            gap = (holdout - cv) / abs(cv) if cv else 0.0
            label = f"{gap:.0%} worse than"
            high, medium = gap >= RELATIVE_GAP_HIGH, gap >= RELATIVE_GAP_MEDIUM
        if medium:
            found.append(
                risk(
                    "overfit: holdout far below cross-validation",
                    "high" if high else "medium",
                    f"holdout {metric} {fmt(holdout)} is {label} CV {fmt(cv)}",
                )
            )
    return found


def _margin(evidence: dict[str, Any]) -> list[dict[str, str]]:
    run = evidence["origin_run"]
    metric = run["sort_metric"]
    best, second = run.get("best"), run.get("runner_up")
    if not best or not second:
        return []
    a, b = as_number(best.get(metric)), as_number(second.get(metric))
    if a is None or b is None or abs(a - b) >= TINY_MARGIN:
        return []
    return [
        risk(
            "tiny margin over the runner-up",
            "low",
            f"{best.get('model_id')} {fmt(a)} vs {second.get('model_id')} {fmt(b)} {metric}: "
            f"a difference of {fmt(abs(a - b))}, within cross-validation noise",
        )
    ]


def _sample_size(evidence: dict[str, Any]) -> list[dict[str, str]]:
    data = evidence["training_data"]
    rows, n_features = data["train_rows"], max(1, data["n_features"])
    found = []
    severity = (
        "high"
        if rows < ROWS_HIGH
        else "medium"
        if rows < ROWS_MEDIUM
        else "low"
        if rows < ROWS_LOW
        else None
    )
    if severity:
        found.append(risk("small training sample", severity, f"{rows} training rows"))
    per_feature = rows / n_features
    severity = (
        "high"
        if per_feature < PER_FEATURE_HIGH
        else "medium"
        if per_feature < PER_FEATURE_MEDIUM
        else "low"
        if per_feature < PER_FEATURE_LOW
        else None
    )
    if severity:
        found.append(
            risk(
                "few rows per feature",
                severity,
                f"{rows} training rows for {data['n_features']} features "
                f"({per_feature:.1f} per feature)",
            )
        )
    return found


def _preprocessing(evidence: dict[str, Any]) -> list[dict[str, str]]:
    data = evidence["training_data"]
    preprocessing = evidence["origin_run"].get("preprocessing") or {}
    missing, categorical = data["features_with_missing_values"], data["categorical_features"]
    if not missing and not categorical:
        return []
    if not preprocessing:
        return [
            risk(
                "preprocessing unknown",
                "low",
                "the run stored no preprocessing summary, so whether the pipeline imputes "
                "missing values and encodes categories cannot be checked",
            )
        ]
    found = []
    _, preprocess = _lookup(preprocessing, "preprocess")
    off = preprocess is False or str(preprocess).lower() == "false"
    if missing:
        has_key, imputation = _lookup(preprocessing, "imputation type")
        no_imputer = off or (has_key and str(imputation).strip().lower() in ("none", "", "null"))
        if no_imputer:
            found.append(
                risk(
                    "no imputer for missing values",
                    "high",
                    f"{len(missing)} feature(s) have missing values ("
                    + ", ".join(missing[:5])
                    + ") but the pipeline does not impute",
                )
            )
        elif not has_key:
            found.append(
                risk(
                    "imputation unknown",
                    "low",
                    "the preprocessing summary does not say how missing values are imputed",
                )
            )
    if categorical:
        has_key, _ = _lookup(
            preprocessing, "maximum one-hot encoding", "encoding method", "categorical features"
        )
        if off:
            found.append(
                risk(
                    "no encoder for categorical features",
                    "high",
                    f"categorical features ({', '.join(categorical[:5])}) but preprocessing is off",
                )
            )
        elif not has_key:
            found.append(
                risk(
                    "encoding unknown",
                    "low",
                    "the preprocessing summary does not say how categories are encoded",
                )
            )
    return found


def _sort_metric(evidence: dict[str, Any]) -> list[dict[str, str]]:
    task = evidence["pipeline"]["task"]
    metric = evidence["origin_run"]["sort_metric"]
    share = evidence["training_data"]["minority_share"]
    imbalanced = share is not None and share < IMBALANCED_SHARE
    if task == "classification" and metric == "Accuracy" and imbalanced:
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


def _version_skew(evidence: dict[str, Any]) -> list[dict[str, str]]:
    trained = evidence["origin_run"].get("environment") or {}
    serving = evidence["serving_environment"]
    if not any(trained.get(k) for k in PACKAGES):
        return [
            risk(
                "training environment unknown",
                "low",
                "the run stored no library versions, so version skew cannot be checked",
            )
        ]
    found = []
    for key in PACKAGES:
        was, now = trained.get(key), serving.get(key)
        if not was or not now or was == now:
            continue
        a, b = _version_key(str(was)), _version_key(str(now))
        severity = PACKAGE_SEVERITY[key] if a[:2] != b[:2] else "low"
        found.append(
            risk(
                f"version skew: {key}",
                severity,
                f"trained with {key} {was}, serving with {now}",
            )
        )
    return found


def risk_checks(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return sort_risks(
        _overfit(evidence)
        + _margin(evidence)
        + _sample_size(evidence)
        + _preprocessing(evidence)
        + _sort_metric(evidence)
        + _version_skew(evidence)
    )


def deterministic_verdict(risks: list[dict[str, str]]) -> str:
    high = [r for r in risks if r["severity"] == "high"]
    medium = [r for r in risks if r["severity"] == "medium"]
    if high:
        return f"{DO_NOT_DEPLOY}: " + "; ".join(f"{r['name']} ({r['evidence']})" for r in high)
    if medium:
        return f"{APPROVE_WITH_CAVEATS}: " + "; ".join(
            f"{r['name']} ({r['evidence']})" for r in medium
        )
    return APPROVE


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
    counts = {s: sum(1 for r in risks if r["severity"] == s) for s in ("high", "medium", "low")}
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
    return {
        "reasoning_summary": reply["reasoning_summary"] or offline["reasoning_summary"],
        "recommendations": reply["recommendations"] or offline["recommendations"],
        "verdict": verdict,
        "risks": offline["risks"],
    }, notes
