"""Run explanation: the leaderboard in words, why the best model won, CV against holdout, and
the top features where the run stored them."""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import NotApplicable, narrative, run_brief, score_columns
from copilots.facts import model_facts
from copilots.numbers import as_number, fmt, readable_row, score_of
from copilots.rules import outcomes
from copilots.rules.checklist import model_risks
from copilots.rules.fitness import (
    GAP_MEDIUM,
    at_ceiling,
    perfect_cv,
    tune_judgement,
    within_noise,
)
from copilots.rules.risks import verdict_floor
from engine.metrics import TRAINING_TIME, higher_is_better
from engine.metrics import not_computed as is_not_computed
from engine.model_registry import accepts_num_clusters
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
    facts = model_facts(run)
    metric = facts["metric"]
    best = facts["best"]
    leaderboard = run.leaderboard[:LEADERBOARD_ROWS]
    direction = "higher" if higher_is_better(metric) else "lower"
    margin = None
    runner_up = facts["runner_up"]
    if best is not None and runner_up is not None:
        best_score, second_score = score_of(best, metric), score_of(runner_up, metric)
        if best_score is not None and second_score is not None:
            margin = {
                "runner_up": runner_up.get("model_id"),
                "runner_up_name": runner_up.get("Model"),
                "value": round(abs(best_score - second_score), 6),
            }
    task = facts["task"]
    cv_vs_holdout = {}
    has_holdout = task not in outcomes.UNSUPERVISED  # scored on the rows it was fitted on
    for column in score_columns([best] if best and has_holdout else []):
        cv, holdout = score_of(best, column), score_of(run.metrics, column)
        if cv is not None and holdout is not None and column != TRAINING_TIME:
            cv_vs_holdout[column] = {
                "cv": cv,
                "holdout": holdout,
                "gap": round(cv - holdout, 6),
            }
    not_computed = sorted(
        {c for row in leaderboard for c in score_columns([row]) if is_not_computed(c, row.get(c))}
    )
    params = dict(list(run.model_params.items())[:PARAMS_CAP])
    risks = model_risks(facts)
    perfect = perfect_cv(task=facts["task"], metric=metric, best=best or {})
    return {
        "run": run_brief(run),
        "model": {"id": run.model_id, "name": run.model_name, "params": params},
        "sort_metric": metric,
        "metric_direction": f"{direction} is better",
        "leaderboard": [readable_row(r) for r in leaderboard],
        "leaderboard_size": len(run.leaderboard),
        "not_computed_metrics": not_computed,
        "best": readable_row(best),
        "at_ceiling": perfect is not None or at_ceiling(metric, score_of(best, metric)),
        "tune": tune_judgement(facts["tune"]),
        "margin_to_runner_up": margin,
        "holdout_metrics": readable_row(run.metrics),
        "cv_vs_holdout": cv_vs_holdout,
        "top_features": _top_features(run),
        "task": task,
        "task_metrics": [c for c in score_columns([best] if best else []) if c != TRAINING_TIME],
        "outcome": _outcome(task, facts),
        "preprocessing": run.preprocessing,
        "risks": risks,
        "deterministic_verdict": verdict_floor(risks),
    }


def _outcome(task: str, facts: dict[str, Any]) -> dict[str, Any] | None:
    """What a clustering, anomaly or forecasting run found, in the evidence."""
    summary = facts["summary"]
    if task == "clustering":
        return {"clusters": summary.get("clusters"), "rows": summary.get("rows")}
    if task == "anomaly":
        keys = ("rows", "flagged", "flagged_share", "fraction")
        return {k: summary.get(k) for k in keys}
    if task == "time_series":
        keys = ("date_column", "frequency", "points", "first", "last", "fh")
        return {**{k: summary.get(k) for k in keys}, "horizon": facts["forecast_horizon"]}
    return None


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You explain a finished PyCaret run to a data scientist: the leaderboard in "
                "words, why the best model won and by what margin, the gap between "
                "cross-validated and holdout scores (and what it suggests), and the top "
                "features if the evidence has them (if not, say they are unavailable). Use "
                "only the run's own task_metrics: a clustering is judged by Silhouette, "
                "Calinski-Harabasz and Davies-Bouldin on the rows it was fitted on (no "
                "holdout), an anomaly detector by the rows it flagged (PyCaret scores none), a "
                "forecast by MASE, RMSSE and MAE on the held-out last fh periods."
            ),
            contract=prompting.BASE_CONTRACT,
        ),
        prompting.user_message("Explain this run.", {"evidence": evidence}),
    ]


def parse(text: str) -> dict[str, Any]:
    return prompting.normalise_common(prompting.parse_reply(text))


def _tune_sentences(tune: dict[str, Any] | None, model_id: str) -> tuple[list[str], list[str]]:
    if not tune:
        return [], []
    metric, before, after = tune["metric"], fmt(tune["original"]), fmt(tune["tuned"])
    if tune["kept_original"]:
        return [
            f"Tuning did not beat the original {model_id} on {metric} (original CV {before}, "
            f"tuned {after}), so PyCaret kept the original model: the scores shown are the "
            "original's."
        ], [
            f"Tuning did not help {model_id}: promote the original as it is, or compare other "
            "model families; tuning it again with the same search is unlikely to help."
        ]
    if tune["worse"] is False:
        return [f"Tuning raised CV {metric} from {before} to {after}."], [
            f"Promote the tuned {model_id}."
        ]
    return [], []


def _risk_sentence(risks: list[dict[str, str]], verdict: str) -> str:
    serious = [r for r in risks if r["severity"] != "low"]
    if not serious:
        return "The deployment checks on this run find no high or medium risk."
    listed = "; ".join(f"{r['name']} ({r['severity']})" for r in serious[:4])
    return f"The deployment checks on this run find: {listed}. Their verdict: {verdict}."


def _unsupervised_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    """A clustering or an anomaly detector: what it found, in the task's own measures."""
    model, outcome, risks = evidence["model"], evidence["outcome"] or {}, evidence["risks"]
    name = f"{model.get('name') or model.get('id')} ({model.get('id')})"
    names = {r["name"] for r in risks}
    best = evidence.get("best") or {}
    if evidence["task"] == "clustering":
        scores = ", ".join(
            f"{m} {fmt(score_of(best, m))} ({'higher' if higher_is_better(m) else 'lower'} "
            "is better)"
            for m in evidence["task_metrics"]
        )
        sentences = [
            f"{name} found {outcomes.describe_clusters(outcome)}.",
            f"Its scores: {scores}; PyCaret scores a clustering on the rows it was fitted "
            "on, so there is no holdout to compare with."
            if scores
            else "The run recorded no clustering score.",
        ]
        recommendations = [
            "Create the model again with other num_clusters values (for example 2 to 6) and "
            "keep the one with the best Silhouette."
            if accepts_num_clusters(model.get("id") or "")
            else f"{model.get('id')} finds the number of clusters itself: compare it with "
            "kmeans at a few num_clusters values by Silhouette."
        ]
        if outcomes.DOMINANT_RISK in names:
            recommendations.insert(
                0,
                "One cluster holds almost every row: set normalize=True, try another "
                "num_clusters or model, or ignore the column that dominates the distances.",
            )
    else:
        sentences = [
            f"{name} flagged {outcomes.describe_flagged(outcome)} as anomalies.",
            "PyCaret scores no anomaly detector, so there is no accuracy to report: judge it "
            "by the rows it flagged (the most anomalous are on the run page).",
        ]
        recommendations = [
            "Review the flagged rows with someone who knows the data; if they are not unusual, "
            "change fraction or try another detector (knn, lof)."
        ]
        if outcomes.FLAGGED_RISK in names:
            recommendations.insert(
                0,
                "The model flagged far more or fewer rows than fraction asked for: look for "
                "repeated rows, and set fraction to the rate you expect.",
            )
    sentences.append(_risk_sentence(risks, evidence["deterministic_verdict"]))
    return {
        "reasoning_summary": " ".join(sentences),
        "recommendations": recommendations,
        "risks": risks,
    }


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    if evidence.get("task") in outcomes.UNSUPERVISED:
        return _unsupervised_advice(evidence)
    metric = evidence["sort_metric"]
    best = evidence.get("best")
    model = evidence["model"]
    risks = evidence["risks"]
    names = {r["name"] for r in risks}
    sentences: list[str] = []
    recommendations: list[str] = []
    n = evidence["leaderboard_size"]
    if best is not None:
        name = model.get("name") or best.get("Model") or model.get("id")
        sentences.append(
            f"{name} ({model.get('id')}) is the chosen model"
            + (f", best of {n} by cross-validated {metric}" if n > 1 else "")
            + f" at {fmt(score_of(best, metric))} ({evidence['metric_direction']})."
        )
        if len(evidence["leaderboard"]) > 1:
            order = ", ".join(
                f"{r.get('model_id')} {fmt(score_of(r, metric))}"
                for r in evidence["leaderboard"][:5]
            )
            sentences.append(f"The top of the leaderboard by {metric}: {order}.")
    if evidence.get("not_computed_metrics"):
        shown = ", ".join(evidence["not_computed_metrics"])
        sentences.append(
            f"PyCaret could not compute {shown} for some models; those show as n/a, not 0."
        )
    tune_lines, tune_advice = _tune_sentences(evidence.get("tune"), model.get("id") or "")
    sentences.extend(tune_lines)
    margin = evidence.get("margin_to_runner_up")
    tied = False
    if margin is not None:
        value = margin["value"]
        tied = within_noise(value)
        sentences.append(
            f"It beat {margin['runner_up']} by {fmt(value)} {metric}"
            + (", a margin within cross-validation noise." if tied else ".")
        )
    overfit = [r for r in risks if r["name"].startswith("overfit")]
    gap = evidence["cv_vs_holdout"].get(metric)
    horizon = (evidence.get("outcome") or {}).get("horizon") or {}
    window = f" (the last {horizon['validated']} periods)" if horizon.get("validated") else ""
    if gap is not None:
        sentences.append(
            f"Cross-validated {metric} {fmt(gap['cv'])} against holdout{window} "
            f"{fmt(gap['holdout'])}."
        )
        signed = gap["gap"] if higher_is_better(metric) else -gap["gap"]
        if signed < -GAP_MEDIUM:
            sentences.append(
                "The holdout score is better than cross-validation by a wide margin; with a "
                "small holdout split this is likely luck."
            )
        elif not overfit:
            sentences.append("The two agree, so the estimate looks stable.")
    elif not evidence["holdout_metrics"]:
        sentences.append("The run has no holdout evaluation.")
    sentences.append(_risk_sentence(risks, evidence["deterministic_verdict"]))
    features = evidence["top_features"]
    if evidence.get("task") == "time_series":
        pass  # a univariate series has no features to rank
    elif features["available"]:
        top = ", ".join(f"{t['feature']}" for t in features["top"][:5])
        sentences.append(f"The most influential features ({features['source']}): {top}.")
    else:
        sentences.append(features["reason"])
    leaks = [r["name"].split(": ", 1)[1] for r in risks if r["name"].startswith("leakage")]
    if leaks:
        recommendations.append(
            f"{', '.join(repr(c) for c in leaks)} alone predict the target: if they are known "
            "only after the outcome, add them to ignore_features and run again."
        )
    if "overfit: holdout far below cross-validation" in names:
        recommendations.append(
            f"The holdout {metric} is well below cross-validation: the model may overfit; try "
            "a simpler model, regularisation or more data."
        )
    if evidence["at_ceiling"]:
        recommendations.append(
            "The cross-validated score is at its ceiling: nothing is left to tune. Check the "
            "features for leakage before trusting it"
            + ("." if leaks or len(overfit) > 1 else " (the target may simply be easy).")
        )
    if outcomes.HORIZON_RISK in names:
        recommendations.append(
            f"Forecasts reach {horizon['asked']} periods ahead but only {horizon['validated']} "
            f"were validated: retrain with fh={horizon['asked']} before trusting them."
        )
    if tied:
        recommendations.append(
            f"{model.get('id')} and {margin['runner_up']} are effectively tied: prefer the "
            "simpler or faster one."
        )
    recommendations.extend(tune_advice)
    tuned_already = evidence.get("tune") is not None
    if not recommendations and not evidence["at_ceiling"] and not tuned_already:
        recommendations.append(
            f"Tune {model.get('id')} (a tune plan) to see whether its {metric} improves, "
            "then promote it."
        )
    if not recommendations:
        recommendations.append("Promote it, then review the pipeline before deploying.")
    return {
        "reasoning_summary": " ".join(sentences),
        "recommendations": recommendations,
        "risks": risks,
    }


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    """The model writes the narrative; the risks are the rule book's (the review's own), and a
    kept original model is always said."""
    notes = []
    tune = evidence.get("tune")
    advice = {**narrative(reply, offline), "risks": offline["risks"]}
    if tune and tune["kept_original"] and "original" not in advice["reasoning_summary"].lower():
        notes.append(_tune_sentences(tune, evidence["model"].get("id") or "")[0][0])
    return advice, notes
