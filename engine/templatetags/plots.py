"""Template helpers for a run's plots: what each plot is (for its caption and alt text), and
the tuning history of a tune run as a small server-drawn SVG."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from engine import numbers

register = template.Library()

PLOT_TITLES = {
    "auc": "ROC curves (AUC)",
    "confusion_matrix": "Confusion matrix",
    "class_report": "Classification report",
    "pr": "Precision-recall curve",
    "feature": "Feature importance",
    "feature_all": "Feature importance (all features)",
    "residuals": "Residuals",
    "error": "Prediction error",
    "learning": "Learning curve",
    "elbow": "Elbow curve",
    "cluster": "Clusters (PCA)",
    "distribution": "Cluster sizes",
    "silhouette": "Silhouette",
    "tsne": "Clusters (t-SNE)",
    "forecast": "Forecast",
    "threshold": "Discrimination threshold",
    "calibration": "Calibration curve",
}


@register.filter
def plot_title(name: str) -> str:
    """ "Confusion matrix" for "confusion_matrix"; an unknown name, made readable."""
    return PLOT_TITLES.get(name, str(name).replace("_", " ").capitalize())


@register.simple_tag
def plot_alt(name: str, run, subject: str = "") -> str:
    """ "Confusion matrix for run #3 (lr)": what the image shows, for alt text."""
    model = subject or run.model_id or ""
    return f"{plot_title(name)} for run #{run.pk}" + (f" ({model})" if model else "")


TW, TH, TPAD = 560, 200, 36


@register.simple_tag
def tuning_history_svg(tune: dict | None, run_id: int | str = "") -> SafeString | str:
    """Each tuning trial's cross-validated score as a dot, the best so far as a line, and the
    original model's score as a dashed line: {trials: [{trial, score}], metric, original_cv}."""
    trials = (tune or {}).get("trials") or []
    trials = [t for t in trials if isinstance(t.get("score"), int | float)]
    if not trials:
        return ""
    from engine.metrics import higher_is_better

    metric = str(tune.get("metric") or "score")
    original = tune.get("original_cv")
    values = [t["score"] for t in trials]
    if isinstance(original, int | float) and not isinstance(original, bool):
        values.append(original)
    else:
        original = None
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    n = len(trials)
    step = (TW - 2 * TPAD) / max(n - 1, 1)

    def x(i: int) -> float:
        return TPAD + i * step

    def y(v: float) -> float:
        return TH - TPAD - (v - low) / span * (TH - 2 * TPAD)

    better = higher_is_better(metric)
    best_so_far, best = [], None
    for t in trials:
        s = t["score"]
        best = s if best is None or (s > best if better else s < best) else best
        best_so_far.append(best)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3"><title>Trial {}: {} {}</title></circle>',
        (
            (f"{x(i):.1f}", f"{y(t['score']):.1f}", t["trial"], metric, numbers.metric(t["score"]))
            for i, t in enumerate(trials)
        ),
    )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(best_so_far))
    baseline = ""
    if original is not None:
        baseline = format_html(
            '<line class="original" x1="{}" x2="{}" y1="{y}" y2="{y}"><title>Original model: '
            "{} {}</title></line>",
            TPAD,
            TW - TPAD,
            metric,
            numbers.metric(original),
            y=f"{y(original):.1f}",
        )
    return format_html(
        '<svg class="tuning-chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="Tuning history for run #{run}: {metric} of {n} trials, best {best}">'
        '{baseline}<polyline class="best" points="{line}"/>{dots}'
        '<text x="2" y="{top}">{high}</text><text x="2" y="{bottom}">{low}</text>'
        '<text x="{pad}" y="{h_text}">trial 1</text>'
        '<text x="{right}" y="{h_text}" text-anchor="end">trial {n}</text></svg>',
        w=TW,
        h=TH,
        run=run_id,
        metric=metric,
        n=n,
        best=numbers.metric(best_so_far[-1]),
        baseline=baseline,
        line=line,
        dots=dots,
        top=TPAD - 8,
        bottom=TH - TPAD + 4,
        high=numbers.metric(high),
        low=numbers.metric(low),
        pad=TPAD,
        right=TW - TPAD,
        h_text=TH - 8,
    )
