"""The risk list of a trained model: every rule that applies to a run or its pipeline.

The run explanation, the deployment review and the deploy gate all call `model_risks` on the
same facts (`copilots.facts.model_facts`), so they cannot disagree about a run.
"""

from __future__ import annotations

from typing import Any

from copilots.rules.columns import id_feature_risks
from copilots.rules.environment import version_skew_risks
from copilots.rules.fitness import margin_risks, overfit_risks
from copilots.rules.imbalance import sort_metric_risks
from copilots.rules.leakage import leakage_risks
from copilots.rules.outcomes import applies, outcome_risks
from copilots.rules.preprocessing import preprocessing_risks
from copilots.rules.risks import sort_risks
from copilots.rules.sample_size import sample_size_risks


def model_risks(facts: dict[str, Any]) -> list[dict[str, str]]:
    """Every risk the facts of a trained model show, most severe first: the checks that apply
    to its task (no holdout or classification metric where the task has none), and the task's
    own (`copilots.rules.outcomes`)."""
    suspects = facts.get("leakage_suspects") or []
    metric, task = facts["metric"], facts["task"]
    best = facts.get("best") or {}
    found = leakage_risks(suspects, facts["target"]) + id_feature_risks(
        facts.get("id_like_features") or []
    )
    if applies("overfit", task):
        found += overfit_risks(
            task=task,
            metric=metric,
            best=best,
            holdout=facts.get("holdout") or {},
            leakage_suspects=[s["column"] for s in suspects],
        )
    if applies("margin", task):
        runner_up = facts.get("runner_up")
        found += margin_risks(metric=metric, best=facts.get("best"), runner_up=runner_up)
    if applies("sample_size", task):
        found += sample_size_risks(train_rows=facts["train_rows"], n_features=facts["n_features"])
    if applies("preprocessing", task):
        found += preprocessing_risks(
            preprocessing=facts.get("preprocessing") or {},
            missing_features=facts.get("missing_features") or [],
            categorical_features=facts.get("categorical_features") or [],
        )
    found += sort_metric_risks(task=task, metric=metric, counts=facts.get("class_counts") or {})
    found += outcome_risks(task, facts)
    found += version_skew_risks(
        trained=facts.get("trained_environment") or {},
        serving=facts.get("serving_environment") or {},
    )
    return sort_risks(found)
