"""How far a trained model's scores can be trusted: a suspiciously perfect cross-validation
score, a holdout score far below cross-validation, and a win within cross-validation noise."""

from __future__ import annotations

from typing import Any

from copilots.numbers import as_number, fmt
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


def overfit_risks(
    *, task: str, metric: str, best: dict[str, Any], holdout: dict[str, Any]
) -> list[dict[str, str]]:
    """A near-perfect CV score (on `metric` or the task's default), and a holdout far below CV.

    `best` is the chosen model's leaderboard row, `holdout` the run's holdout metrics.
    """
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
    held = as_number(holdout.get(metric))
    if cv is not None and held is not None:
        if higher_is_better(metric):
            gap = cv - held
            label = f"{fmt(gap)} below"
            high, medium = gap >= GAP_HIGH, gap >= GAP_MEDIUM
        else:
            gap = (held - cv) / abs(cv) if cv else 0.0
            label = f"{gap:.0%} worse than"
            high, medium = gap >= RELATIVE_GAP_HIGH, gap >= RELATIVE_GAP_MEDIUM
        if medium:
            found.append(
                risk(
                    "overfit: holdout far below cross-validation",
                    "high" if high else "medium",
                    f"holdout {metric} {fmt(held)} is {label} CV {fmt(cv)}",
                )
            )
    return found


def margin_risks(
    *, metric: str, best: dict[str, Any] | None, runner_up: dict[str, Any] | None
) -> list[dict[str, str]]:
    """The chosen model beat the runner-up (both leaderboard rows) by less than CV noise."""
    if not best or not runner_up:
        return []
    a, b = as_number(best.get(metric)), as_number(runner_up.get(metric))
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
