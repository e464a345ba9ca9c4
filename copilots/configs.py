"""A suggested configuration in words: the short list the designer and the debugger show (task,
target, key options, first plan). The run form's initial values for a plan are
engine.forms.plan_initial."""

from __future__ import annotations

from typing import Any

# Setup options worth naming first; the rest follow in their own order.
KEY_OPTIONS = ("ignore_features", "fix_imbalance", "fold", "train_size", "normalize")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def describe_plan(plan: dict[str, Any]) -> str:
    """ "compare lr, rf, sorted by F1" ; "tune rf (10 iterations, optimising AUC)" """
    kind = plan.get("kind", "?")
    if kind == "compare":
        scope = ", ".join(plan["include"]) if plan.get("include") else "PyCaret's default models"
        text = f"compare {scope}"
        if plan.get("exclude"):
            text += f" except {', '.join(plan['exclude'])}"
        if plan.get("sort"):
            text += f", sorted by {plan['sort']}"
        if plan.get("fold"):
            text += f", {plan['fold']} folds"
        return text
    if kind == "create":
        return f"create {plan.get('model_id', '?')}"
    if kind == "tune":
        text = f"tune {plan.get('model_id', '?')} ({plan.get('n_iter', 10)} iterations"
        return text + (f", optimising {plan['optimize']})" if plan.get("optimize") else ")")
    if kind == "ensemble":
        return f"ensemble {plan.get('model_id', '?')} ({plan.get('method', 'Bagging')})"
    if kind == "blend":
        if plan.get("model_ids"):
            return f"blend {', '.join(plan['model_ids'])}"
        return f"blend the top {plan.get('top_n', 3)} of a comparison"
    return str(kind)


def config_lines(config: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) pairs: task, target, key options, first plan."""
    if not isinstance(config, dict):
        return []
    lines: list[tuple[str, str]] = []
    experiment = config.get("experiment")
    if isinstance(experiment, dict):
        lines.append(("Task", str(experiment.get("task", ""))))
        lines.append(("Target", str(experiment.get("target", ""))))
        setup = experiment.get("setup") or {}
        ordered = [k for k in KEY_OPTIONS if k in setup] + [
            k for k in setup if k not in KEY_OPTIONS
        ]
        options = "; ".join(f"{k} = {_value(setup[k])}" for k in ordered)
        lines.append(("Options", options or "PyCaret's defaults"))
    plan = config.get("plan")
    if isinstance(plan, dict):
        label = "First plan" if isinstance(experiment, dict) else "Corrected plan"
        lines.append((label, describe_plan(plan)))
    return lines
