"""How far a trained model's scores can be trusted, and whether tuning can still help: a
suspiciously perfect cross-validation score, a holdout score far below cross-validation, a win
within cross-validation noise, a score at the metric's ceiling, and a tune that did not help.

A perfect CV score alone is a medium risk ("check for leakage"): some targets are simply easy
(species from body measurements). It is high only with supporting evidence: a leakage suspect
among the training features, or a holdout score far below CV.
"""

from __future__ import annotations

from typing import Any

from copilots.numbers import as_number, fmt, score_of
from copilots.rules.risks import risk
from engine.metrics import BOUNDED_METRICS, DEFAULT_METRIC, higher_is_better

OVERFIT_CV = 0.999
# Holdout below CV, in the metric's own units (higher-is-better metrics, which are bounded)...
GAP_HIGH, GAP_MEDIUM = 0.10, 0.05
# ...or relative to the CV score (lower-is-better errors, whose scale depends on the target).
RELATIVE_GAP_HIGH, RELATIVE_GAP_MEDIUM = 0.5, 0.25
TINY_MARGIN = 0.005


def within_noise(margin: float) -> bool:
    """Whether two cross-validated scores `margin` apart are effectively tied."""
    return margin < TINY_MARGIN


def at_ceiling(metric: str, value: float | None) -> bool:
    """A score that cannot improve: ≥ OVERFIT_CV on a bounded metric, or an error of zero."""
    if value is None:
        return False
    if metric in BOUNDED_METRICS:
        return value >= OVERFIT_CV
    return not higher_is_better(metric) and value <= 0


def perfect_cv(*, task: str, metric: str, best: dict[str, Any]) -> tuple[str, float] | None:
    """(metric, value) of a near-perfect CV score on `metric` or the task's default."""
    watched = [metric, DEFAULT_METRIC.get(task, "")]
    for name in dict.fromkeys(m for m in watched if m in BOUNDED_METRICS):
        value = score_of(best, name)
        if value is not None and value >= OVERFIT_CV:
            return name, value
    return None


def holdout_gap(
    *, metric: str, best: dict[str, Any], holdout: dict[str, Any]
) -> dict[str, Any] | None:
    """How far holdout falls below CV: `{severity, evidence}` when it is medium or high."""
    cv, held = score_of(best, metric), score_of(holdout, metric)
    if cv is None or held is None:
        return None
    if higher_is_better(metric):
        gap = round(cv - held, 6)  # 1.0 - 0.9 is 0.0999...: read scores as printed
        label = f"{fmt(gap)} below"
        high, medium = gap >= GAP_HIGH, gap >= GAP_MEDIUM
    else:
        gap = round((held - cv) / abs(cv), 6) if cv else 0.0
        label = f"{gap:.0%} worse than"
        high, medium = gap >= RELATIVE_GAP_HIGH, gap >= RELATIVE_GAP_MEDIUM
    if not medium:
        return None
    return {
        "severity": "high" if high else "medium",
        "evidence": f"holdout {metric} {fmt(held)} is {label} CV {fmt(cv)}",
    }


def overfit_risks(
    *,
    task: str,
    metric: str,
    best: dict[str, Any],
    holdout: dict[str, Any],
    leakage_suspects: list[str] | tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """A near-perfect CV score, and a holdout score far below CV.

    `best` is the chosen model's leaderboard row, `holdout` the run's holdout metrics and
    `leakage_suspects` the training features that alone predict the target.
    """
    found = []
    gap = holdout_gap(metric=metric, best=best, holdout=holdout)
    perfect = perfect_cv(task=task, metric=metric, best=best)
    if perfect is not None:
        name, value = perfect
        support = []
        if leakage_suspects:
            support.append("leakage suspect(s) among the features: " + ", ".join(leakage_suspects))
        if gap is not None:
            support.append(gap["evidence"])
        evidence = f"CV {name} = {fmt(value)} (≥ {OVERFIT_CV})"
        if support:
            evidence += "; with " + "; ".join(support)
        else:
            held = score_of(holdout, name)
            agree = f"holdout {name} {fmt(held)} agrees" if held is not None else "no holdout"
            evidence += f"; {agree}, so the target may simply be easy: check for leakage"
        found.append(
            risk(
                "overfit: perfect cross-validation score",
                "high" if support else "medium",
                evidence,
            )
        )
    if gap is not None:
        found.append(risk("overfit: holdout far below cross-validation", **gap))
    return found


def margin_risks(
    *, metric: str, best: dict[str, Any] | None, runner_up: dict[str, Any] | None
) -> list[dict[str, str]]:
    """The chosen model beat the runner-up (both leaderboard rows) by less than CV noise."""
    if not best or not runner_up:
        return []
    a, b = score_of(best, metric), score_of(runner_up, metric)
    if a is None or b is None or not within_noise(abs(a - b)):
        return []
    return [
        risk(
            "tiny margin over the runner-up",
            "low",
            f"{best.get('model_id')} {fmt(a)} vs {runner_up.get('model_id')} {fmt(b)} {metric}: "
            f"a difference of {fmt(abs(a - b))}, within cross-validation noise",
        )
    ]


def tune_judgement(tune: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a tune run's outcome means: `{kept_original, worse, metric, original, tuned}`.

    `tune` is the run's recorded outcome (`Run.outcome["tune"]`).
    """
    if not tune:
        return None
    metric = tune.get("metric") or ""
    original, tuned = as_number(tune.get("original_cv")), as_number(tune.get("tuned_cv"))
    worse = None
    if original is not None and tuned is not None:
        worse = tuned < original if higher_is_better(metric) else tuned > original
    return {
        "kept_original": bool(tune.get("kept_original")),
        "worse": worse,
        "metric": metric,
        "original": original,
        "tuned": tuned,
    }
