"""Template helpers for pipeline and deployment pages: drift histograms and the forecast chart,
as small SVGs.

Every value that reaches the markup goes through format_html, so data is escaped.
"""

from __future__ import annotations

import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from engine import numbers
from engine.services.pipelines import default_pipeline_name

register = template.Library()

WIDTH = 160
HEIGHT = 40


def _label(value) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        magnitude = abs(value)
        if magnitude and (magnitude >= 1e5 or magnitude < 1e-3):
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


@register.simple_tag
def drift_histogram_svg(histogram: dict | None, series: str, name: str = "") -> SafeString | str:
    """Bars of one sample's shares ("reference" or "current") over the feature's bins."""
    if not histogram or series not in ("reference", "current"):
        return ""
    shares = list(histogram.get(series) or [])
    if not shares:
        return ""
    if histogram.get("kind") == "numeric":
        edges = histogram.get("edges") or []
        labels = [
            f"{_label(edges[i])} to {_label(edges[i + 1])}" if i + 1 < len(edges) else ""
            for i in range(len(shares))
        ]
    else:
        labels = [str(c) for c in histogram.get("categories") or []]
    # Both series share one scale, so the two charts of a feature compare at a glance.
    peak = max([*histogram.get("reference", []), *histogram.get("current", []), 0.0]) or 1.0
    bar_width = WIDTH / len(shares)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}: {}%</title></rect>',
        (
            (
                f"{i * bar_width:.2f}",
                f"{HEIGHT - (share / peak) * (HEIGHT - 1):.2f}",
                f"{max(bar_width - 1, 0.5):.2f}",
                f"{(share / peak) * (HEIGHT - 1):.2f}",
                labels[i] if i < len(labels) else "",
                f"{share * 100:.1f}",
            )
            for i, share in enumerate(shares)
        ),
    )
    return format_html(
        '<svg class="spark drift-hist drift-{series}" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" role="img" aria-label="{what} distribution of {name}">{bars}</svg>',
        series=series,
        w=WIDTH,
        h=HEIGHT,
        what="Training" if series == "reference" else "Recent input",
        name=name,
        bars=bars,
    )


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 220, 28
# The chart shows this many periods of history before the forecast.
CHART_HISTORY = 48


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


@register.simple_tag
def forecast_svg(history: list | None, forecast: list | None, name: str = "") -> SafeString | str:
    """The tail of the series and the forecast after it (with its interval, where the model
    gives one): history and forecast are [{period, value, lower?, upper?}]."""
    forecast = [p for p in forecast or [] if isinstance(p.get("value"), int | float)]
    if not forecast:
        return ""
    history = [
        p for p in (history or [])[-CHART_HISTORY:] if isinstance(p.get("value"), int | float)
    ]
    values = [p["value"] for p in history + forecast]
    values += [p[k] for p in forecast for k in ("lower", "upper") if p.get(k) is not None]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    n = len(history) + len(forecast)
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(n - 1, 1)

    def at(i: int, value: float) -> tuple[float, float]:
        y = CHART_HEIGHT - CHART_PAD - (value - low) / span * (CHART_HEIGHT - 2 * CHART_PAD)
        return CHART_PAD + i * step, y

    past = [at(i, p["value"]) for i, p in enumerate(history)]
    start = len(history)
    ahead = [at(start + i, p["value"]) for i, p in enumerate(forecast)]
    # the forecast line starts from the last known point, so the two lines join
    joined = ([past[-1]] if past else []) + ahead
    band = ""
    if all(p.get("lower") is not None and p.get("upper") is not None for p in forecast):
        upper = [at(start + i, p["upper"]) for i, p in enumerate(forecast)]
        lower = [at(start + i, p["lower"]) for i, p in enumerate(forecast)]
        band = format_html('<polygon class="band" points="{}"/>', _path(upper + lower[::-1]))
    first = (history or forecast)[0]["period"]
    return format_html(
        '<svg class="forecast-chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{name}: history to {last_known} and forecast {f0} to {f1}">'
        '{band}<polyline class="history" points="{past}"/>'
        '<polyline class="forecast" points="{ahead}"/>'
        '<text x="{pad}" y="{h_text}">{first}</text>'
        '<text x="{right}" y="{h_text}" text-anchor="end">{f1}</text>'
        '<text x="2" y="{top}">{high}</text><text x="2" y="{bottom}">{low}</text></svg>',
        w=CHART_WIDTH,
        h=CHART_HEIGHT,
        name=name or "Forecast",
        last_known=history[-1]["period"] if history else first,
        f0=forecast[0]["period"],
        f1=forecast[-1]["period"],
        band=band,
        past=_path(past),
        ahead=_path(joined),
        pad=CHART_PAD,
        right=CHART_WIDTH - CHART_PAD,
        h_text=CHART_HEIGHT - 6,
        first=first,
        top=CHART_PAD - 8,
        bottom=CHART_HEIGHT - CHART_PAD + 4,
        high=_label(float(high)),
        low=_label(float(low)),
    )


@register.filter
def stat(value) -> str:
    """A test statistic, as every number on the studio's pages (four decimals)."""
    if value is None:
        return "—"
    return numbers.metric(value)


@register.filter
def pvalue(value) -> str:
    """A p-value: "< 0.0001" or four decimals, the same as the copilots write it."""
    return numbers.p_value(value)


@register.filter
def pclause(value) -> str:
    """ "p < 0.0001" or "p = 0.0123", for a sentence."""
    return numbers.p_clause(value)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.0f}%"


@register.filter
def ms(value) -> str:
    if value is None:
        return "—"
    return f"{float(value):.1f} ms"


@register.simple_tag
def promote_name(run) -> str:
    """The name a promotion of `run` gets by default."""
    return default_pipeline_name(run)
