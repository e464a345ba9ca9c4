"""Run explanation: the leaderboard in words, why the best model won, CV against holdout, and
the top features where the run stored them."""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import NotApplicable, narrative, run_brief, score_columns
from copilots.numbers import as_number, fmt
from copilots.rules.fitness import GAP_MEDIUM, within_noise
from engine.metrics import DEFAULT_METRIC, TRAINING_TIME, higher_is_better
from engine.models import Run, RunStatus

TYPE = "run_explanation"
ROLE = "run explainer copilot"
LEADERBOARD_ROWS = 10
PARAMS_CAP = 40
IMPORTANCE_KEYS = ("feature_importances", "feature_importance", "coef", "coefficients")


def check(run: Run) -> None:
    if run.status != RunStatus.SUCCEEDED:
        raise NotApplicable(
            f"Run {run.pk} is {run.status}; only a succeeded run can be explained.",
            code="run_not_succeeded",
        )


def links(run: Run) -> dict[str, Any]:
    return {"run": run, "experiment": run.experiment, "project": run.experiment.project}


def _top_features(run: Run) -> dict[str, Any]:
    """Feature importances if the run stored any; otherwise say where they are not."""
    for key in IMPORTANCE_KEYS:
        values = run.model_params.get(key)
        names = [f["name"] for f in run.feature_schema]
        if isinstance(values, list) and values and len(values) == len(names):
            numbers = [as_number(v) for v in values]
            if all(n is not None for n in numbers):
                ranked = sorted(zip(names, numbers, strict=True), key=lambda p: -abs(p[1]))
                return {
                    "available": True,
                    "source": key,
                    "top": [{"feature": n, "importance": v} for n, v in ranked[:10]],
                }
    has_plot = any(p.get("name") == "feature" for p in run.plots)
    return {
        "available": False,
        "reason": (
            "The run stored no numeric feature importances"
            + ("; its feature-importance plot is on the run page." if has_plot else ".")
        ),
    }


def build_evidence(run: Run, **_: Any) -> dict[str, Any]:
    task = run.experiment.task
    metric = run.leaderboard_sort or DEFAULT_METRIC.get(task, "")
    leaderboard = run.leaderboard[:LEADERBOARD_ROWS]
    direction = "higher" if higher_is_better(metric) else "lower"
    best = next((r for r in run.leaderboard if r.get("model_id") == run.model_id), None)
    best = best or (run.leaderboard[0] if run.leaderboard else None)
    margin = None
    if best is not None and len(run.leaderboard) > 1:
        others = [r for r in run.leaderboard if r is not best]
        best_score, second_score = as_number(best.get(metric)), as_number(others[0].get(metric))
        if best_score is not None and second_score is not None:
            margin = {
                "runner_up": others[0].get("model_id"),
                "runner_up_name": others[0].get("Model"),
                "value": round(abs(best_score - second_score), 6),
            }
    cv_vs_holdout = {}
    for column in score_columns([best] if best else []):
        cv, holdout = as_number(best.get(column)), as_number(run.metrics.get(column))
        if cv is not None and holdout is not None and column != TRAINING_TIME:
            cv_vs_holdout[column] = {
                "cv": cv,
                "holdout": holdout,
                "gap": round(cv - holdout, 6),
            }
    params = dict(list(run.model_params.items())[:PARAMS_CAP])
    return {
        "run": run_brief(run),
        "model": {"id": run.model_id, "name": run.model_name, "params": params},
        "sort_metric": metric,
        "metric_direction": f"{direction} is better",
        "leaderboard": leaderboard,
        "leaderboard_size": len(run.leaderboard),
        "best": best,
        "margin_to_runner_up": margin,
        "holdout_metrics": run.metrics,
        "cv_vs_holdout": cv_vs_holdout,
        "top_features": _top_features(run),
        "preprocessing": run.preprocessing,
    }


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You explain a finished PyCaret run to a data scientist: the leaderboard in "
                "words, why the best model won and by what margin, the gap between "
                "cross-validated and holdout scores (and what it suggests), and the top "
                "features if the evidence has them (if not, say they are unavailable)."
            ),
            contract=prompting.BASE_CONTRACT,
        ),
        prompting.user_message("Explain this run.", {"evidence": evidence}),
    ]


def parse(text: str) -> dict[str, Any]:
    return prompting.normalise_common(prompting.parse_reply(text))


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    metric = evidence["sort_metric"]
    best = evidence.get("best")
    model = evidence["model"]
    sentences: list[str] = []
    recommendations: list[str] = []
    n = evidence["leaderboard_size"]
    if best is not None:
        name = model.get("name") or best.get("Model") or model.get("id")
        sentences.append(
            f"{name} ({model.get('id')}) is the chosen model"
            + (f", best of {n} by cross-validated {metric}" if n > 1 else "")
            + f" at {fmt(best.get(metric))} ({evidence['metric_direction']})."
        )
        if len(evidence["leaderboard"]) > 1:
            order = ", ".join(
                f"{r.get('model_id')} {fmt(r.get(metric))}" for r in evidence["leaderboard"][:5]
            )
            sentences.append(f"The top of the leaderboard by {metric}: {order}.")
    margin = evidence.get("margin_to_runner_up")
    if margin is not None:
        value = margin["value"]
        tied = within_noise(value)
        sentences.append(
            f"It beat {margin['runner_up']} by {fmt(value)} {metric}"
            + (", a margin within cross-validation noise." if tied else ".")
        )
        if tied:
            recommendations.append(
                f"{model.get('id')} and {margin['runner_up']} are effectively tied: prefer the "
                "simpler or faster one, or tune both before choosing."
            )
    gap = evidence["cv_vs_holdout"].get(metric)
    if gap is not None:
        signed = gap["gap"] if higher_is_better(metric) else -gap["gap"]
        sentences.append(
            f"Cross-validated {metric} {fmt(gap['cv'])} against holdout {fmt(gap['holdout'])}."
        )
        # The deployment review's medium overfit gap, read in the metric's direction.
        if signed > GAP_MEDIUM:
            recommendations.append(
                f"The holdout {metric} is {fmt(abs(gap['gap']))} worse than cross-validation: "
                "the model may overfit; try a simpler model, regularisation or more data."
            )
        elif signed < -GAP_MEDIUM:
            recommendations.append(
                "The holdout score is better than cross-validation by a wide margin; with a small "
                "holdout split this is likely luck, so do not read too much into it."
            )
        else:
            sentences.append("The two agree, so the estimate looks stable.")
    elif not evidence["holdout_metrics"]:
        sentences.append("The run has no holdout evaluation.")
    features = evidence["top_features"]
    if features["available"]:
        top = ", ".join(f"{t['feature']}" for t in features["top"][:5])
        sentences.append(f"The most influential features ({features['source']}): {top}.")
    else:
        sentences.append(features["reason"])
    if not recommendations:
        recommendations.append(
            f"Tune {model.get('id')} (a tune plan) to see whether its {metric} improves, "
            "then promote it."
        )
    return {"reasoning_summary": " ".join(sentences), "recommendations": recommendations}


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    return narrative(reply, offline), []
