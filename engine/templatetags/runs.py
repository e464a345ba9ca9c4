"""Template helpers for run pages: the New run form, permissions, numbers and durations."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from engine import numbers
from engine.metrics import NOT_COMPUTED_HELP, leaderboard_order, not_computed

register = template.Library()
NOT_COMPUTED_MARK = "—"

# Leaderboard columns that are not metrics.
TEXT_COLUMNS = {"model_id", "Model"}


@register.simple_tag
def new_run_form(experiment):
    """An unbound New run form for the experiment's task."""
    from engine.forms import RunPlanForm

    return RunPlanForm(task=experiment.task)


@register.filter
def any_active(runs) -> bool:
    return any(run.is_active for run in runs)


@register.filter
def best_score(run) -> str:
    score = run.best_score
    if score is None:
        return ""
    metric, value = score
    if not_computed(metric, value):
        return f"{metric} {NOT_COMPUTED_MARK}"
    return f"{metric} {metric_value(value)}"


@register.simple_tag
def metric_cell(metric: str, value):
    """A leaderboard cell. A metric PyCaret could not compute reads "—" with a tooltip, and its
    empty sort value puts the row last whichever way the column is sorted (runs.js)."""
    if not_computed(metric, value):
        return format_html(
            '<td class="num not-computed" data-value="" title="{}">{}</td>',
            NOT_COMPUTED_HELP.format(metric=metric),
            NOT_COMPUTED_MARK,
        )
    sort_value = "" if value is None else value
    return format_html('<td class="num" data-value="{}">{}</td>', sort_value, metric_value(value))


@register.simple_tag
def metric_text(metric: str, value):
    """A metric's value for a definition list: "—" with a tooltip when PyCaret could not
    compute it."""
    if not_computed(metric, value):
        return format_html(
            '<span class="not-computed" title="{}">{}</span>',
            NOT_COMPUTED_HELP.format(metric=metric),
            NOT_COMPUTED_MARK,
        )
    return metric_value(value)


@register.filter
def metric_value(value) -> str:
    """Numbers as PyCaret prints them (4 decimals); anything else as text."""
    return numbers.metric(value)


@register.filter
def leaderboard_columns(rows: list[dict]) -> list[str]:
    """The metric columns of a leaderboard, in PyCaret's order."""
    if not rows:
        return []
    return leaderboard_order(column for column in rows[0] if column not in TEXT_COLUMNS)


@register.filter
def metric_items(metrics: dict) -> list[tuple[str, object]]:
    """A metrics dict's (name, value) pairs in PyCaret's order, without the model's name."""
    if not isinstance(metrics, dict):
        return []
    return [(name, metrics[name]) for name in leaderboard_order(metrics) if name != "Model"]


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def duration(run) -> str:
    """How long the run took (or has been running), as 1m 05s."""
    if run.started_at is None:
        return ""
    from django.utils import timezone

    end = run.finished_at or timezone.now()
    seconds = max(0, int((end - run.started_at).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


@register.filter
def plan_summary(plan: dict) -> str:
    """A short human description of a plan dict."""
    kind = plan.get("kind", "?")
    if kind == "compare":
        models = plan.get("include")
        return f"compare {', '.join(models)}" if models else "compare (default models)"
    if kind in ("create", "tune", "ensemble"):
        extra = f" ({plan['method'].lower()})" if kind == "ensemble" and plan.get("method") else ""
        if plan.get("num_clusters"):
            extra = f" ({plan['num_clusters']} clusters)"
        elif plan.get("fraction"):
            extra = f" (fraction {plan['fraction']})"
        return f"{kind} {plan.get('model_id', '?')}{extra}"
    if kind == "blend":
        if plan.get("model_ids"):
            return f"blend {', '.join(plan['model_ids'])}"
        return f"blend top {plan.get('top_n', '?')}"
    return kind


@register.simple_tag
def task_line(obj):
    """ "Classification of <target>", "Clustering of every column", for an experiment or a
    pipeline (both have task and target)."""
    label = obj.get_task_display()
    if obj.target:
        return format_html("{} of <code>{}</code>", label, obj.target)
    return format_html("{} of every column", label)


@register.filter
def metrics_title(task: str) -> str:
    """What a run's metrics are measured on: a holdout split, or the training data itself."""
    if task == "clustering":
        return "Metrics on the training data"
    if task == "anomaly":
        return "Flagged rows"
    return "Holdout metrics"


@register.filter
def percent_of(share) -> str:
    if share is None:
        return ""
    return f"{float(share) * 100:.1f}%"


# The experiment page's runs table (engine.selectors.runs.run_table).


def _table_params(table: dict) -> dict:
    params = {name: value for name, value in table["filters"].items() if value}
    params.update(sort=table["sort"], dir=table["dir"], page=table["page"].number)
    if table.get("archived"):
        params["archived"] = "1"
    return params


@register.simple_tag
def table_query(table: dict, **changes) -> str:
    """The runs table's query string, with `changes`; an empty change drops the parameter."""
    from django.utils.http import urlencode

    params = {**_table_params(table), **changes}
    return urlencode({name: value for name, value in params.items() if value not in ("", None)})


@register.simple_tag
def sort_query(table: dict, column: str) -> str:
    """The query that sorts the table by `column`: the other way round when it already is,
    else best first (newest first for created, longest first for duration), from page 1."""
    from engine.metrics import higher_is_better

    if table["sort"] == column:
        direction = "asc" if table["dir"] == "desc" else "desc"
    else:
        direction = (
            "desc" if column in ("created", "duration") or higher_is_better(column) else "asc"
        )
    return table_query(table, sort=column, dir=direction, page="")


@register.filter
def seconds_text(seconds) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


@register.filter
def get_index(sequence, index):
    try:
        return sequence[int(index)]
    except (IndexError, TypeError, ValueError):
        return None
