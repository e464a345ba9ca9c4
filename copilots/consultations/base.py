"""What the six copilots share: the NotApplicable error, run excerpts for evidence, and the
narrative merge of an LLM's reply with the offline answer."""

from __future__ import annotations

from typing import Any

from engine.errors import StudioError
from engine.metrics import leaderboard_order
from engine.models import Run


class NotApplicable(StudioError):
    """This copilot does not apply to that object (the API answers 400)."""

    code = "not_applicable"


def narrative(reply: dict[str, Any], offline: dict[str, Any]) -> dict[str, Any]:
    """The LLM writes the summary and the recommendations; the offline answer fills either one
    the reply left empty."""
    return {
        "reasoning_summary": reply["reasoning_summary"] or offline["reasoning_summary"],
        "recommendations": reply["recommendations"] or offline["recommendations"],
    }


def score_columns(leaderboard: list[dict[str, Any]]) -> list[str]:
    """The metric columns of a leaderboard, in PyCaret's order."""
    columns: list[str] = []
    for row in leaderboard:
        for key in row:
            if key not in ("model_id", "Model") and key not in columns:
                columns.append(key)
    return leaderboard_order(columns)


def run_brief(run: Run) -> dict[str, Any]:
    experiment = run.experiment
    return {
        "id": run.pk,
        "status": run.status,
        "plan": run.plan,
        "task": experiment.task,
        "target": experiment.target,
        "setup_options": experiment.setup_options,
        "dataset": {
            "id": experiment.dataset_id,
            "name": experiment.dataset.name,
            "n_rows": experiment.dataset.n_rows,
            "n_cols": experiment.dataset.n_cols,
        },
    }


def event_excerpt(run: Run, head: int = 5, tail: int = 35) -> list[dict[str, Any]]:
    """The run's events cut to the first `head` and last `tail`, with a marker between."""
    events = run.events.order_by("seq")
    total = events.count()

    def row(event) -> dict[str, Any]:
        return {
            "seq": event.seq,
            "level": event.level,
            "message": event.message[:500],
        }

    if total <= head + tail:
        return [row(e) for e in events]
    first = [row(e) for e in events[:head]]
    last = [row(e) for e in reversed(list(run.events.order_by("-seq")[:tail]))]
    return [*first, {"__truncated__": total - head - tail}, *last]
