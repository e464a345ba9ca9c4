"""Template helpers for pipeline and deployment pages: drift histograms as small SVGs.

Every value that reaches the markup goes through format_html, so data is escaped.
"""

from __future__ import annotations

import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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


@register.filter
def stat(value) -> str:
    """A test statistic or p-value, compactly."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-4:
            return f"{value:.1e}"
        return f"{value:.4f}"
    return str(value)


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
