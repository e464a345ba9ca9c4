"""What each task supports beyond the plan schema: plan kinds, create_model's task arguments
and the plots one may ask for. The web layer refuses the rest with a 422 at submission, and the
runner refuses it again as CONFIG (it is also called without the web layer).

Plain Python: no Django, no PyCaret.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from engine.model_registry import accepts_num_clusters, is_known_model, num_clusters_models
from engine.plans import PLAN_KINDS, PLOTS, TASK_LABELS

PLAN_KINDS_BY_TASK: dict[str, tuple[str, ...]] = {
    "classification": PLAN_KINDS,
    "regression": PLAN_KINDS,
    # PyCaret's clustering and anomaly modules have no compare, tune, ensemble or blend.
    "clustering": ("setup", "create"),
    "anomaly": ("setup", "create"),
    "time_series": ("setup", "compare", "create", "tune"),
}


def umap_installed() -> bool:
    return importlib.util.find_spec("umap") is not None


def extra_plots(task: str) -> tuple[str, ...]:
    """Plots drawn only when a plan asks for them (``plots``), because they are slow."""
    if task == "clustering":
        return ("tsne", "silhouette", "distance")
    if task == "anomaly":
        return ("tsne", "umap") if umap_installed() else ("tsne",)
    return ()


def plan_kinds(task: str) -> tuple[str, ...]:
    return PLAN_KINDS_BY_TASK.get(task, ())


def _label(task: str) -> str:
    return TASK_LABELS.get(task, task)


def plan_problems(plan: Any, task: str) -> list[tuple[str, str]]:
    """``[(field, message), ...]`` for what ``plan`` asks that ``task`` cannot do."""
    kinds = plan_kinds(task)
    if plan.kind not in kinds:
        label = _label(task)
        return [
            (
                "kind",
                f"A {label} experiment runs {', '.join(kinds)} plans; "
                f"'{plan.kind}' does not apply to {label}.",
            )
        ]
    problems: list[tuple[str, str]] = []
    num_clusters = getattr(plan, "num_clusters", None)
    if num_clusters is not None:
        if task != "clustering":
            problems.append(("num_clusters", "num_clusters only applies to clustering."))
        elif is_known_model(task, plan.model_id) and not accepts_num_clusters(plan.model_id):
            problems.append(
                (
                    "num_clusters",
                    f"num_clusters does not apply to '{plan.model_id}': that model finds the "
                    "number of clusters itself. Models that take num_clusters: "
                    f"{', '.join(num_clusters_models())}.",
                )
            )
    if getattr(plan, "fraction", None) is not None and task != "anomaly":
        problems.append(("fraction", "fraction only applies to anomaly detection."))
    plots = getattr(plan, "plots", None)
    if plots:
        extras = extra_plots(task)
        if not extras:
            problems.append(
                (
                    "plots",
                    "plots on request apply to clustering and anomaly detection, not "
                    f"{_label(task)}.",
                )
            )
        else:
            allowed = set(extras) | set(PLOTS.get(task, ()))
            unknown = [name for name in plots if name not in allowed]
            if unknown:
                problems.append(
                    (
                        "plots",
                        f"Unknown plot {', '.join(repr(n) for n in unknown)} for {_label(task)}; "
                        f"you can ask for: {', '.join(extras)}.",
                    )
                )
    return problems


def plots_to_draw(plan: Any, task: str) -> list[str]:
    """The task's default plots, then those the plan asked for, each once."""
    names = list(PLOTS.get(task, ()))
    for name in getattr(plan, "plots", None) or ():
        if name not in names:
            names.append(name)
    return names
