"""Small server-rendered SVG charts for the dataset profile: histograms and top-value bars.

Every value that reaches the markup goes through format_html, so column data is escaped.
"""

from __future__ import annotations

import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from engine.numbers import looks_like_year_or_id

register = template.Library()

WIDTH = 140
HEIGHT = 36
BAR_HEIGHT = 9
TOP_SHOWN = 5


def _number(value, name: str = "") -> str:
    """A compact label for a bin edge or statistic; a year or an id (by its value or its
    column's name) without thousands separators: "2007", "2008.03"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if looks_like_year_or_id(value, name):
        return str(value) if isinstance(value, int) else f"{value:.6g}"
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e6 or magnitude < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.4g}" if isinstance(value, float) else f"{value:,}"


@register.filter
def compact_number(value, name: str = "") -> str:
    return "" if value is None else _number(value, name)


@register.simple_tag
def histogram_svg(column: dict, width: int = WIDTH, height: int = HEIGHT) -> SafeString | str:
    """Bars for a numeric column's histogram: {edges: [n+1], counts: [n]}."""
    histogram = (column or {}).get("histogram") or {}
    counts = list(histogram.get("counts") or [])
    edges = list(histogram.get("edges") or [])
    if not counts or len(edges) != len(counts) + 1:
        return ""
    peak = max(counts) or 1
    bar_width = width / len(counts)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{} to {}: {}</title></rect>',
        (
            (
                f"{i * bar_width:.2f}",
                f"{height - (count / peak) * (height - 1):.2f}",
                f"{max(bar_width - 1, 0.5):.2f}",
                f"{(count / peak) * (height - 1):.2f}",
                _number(edges[i], column.get("name", "")),
                _number(edges[i + 1], column.get("name", "")),
                count,
            )
            for i, count in enumerate(counts)
        ),
    )
    return format_html(
        '<svg class="spark spark-hist" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'role="img" aria-label="Histogram of {name}: {lo} to {hi}">{bars}</svg>',
        w=width,
        h=height,
        name=column.get("name", ""),
        lo=_number(edges[0], column.get("name", "")),
        hi=_number(edges[-1], column.get("name", "")),
        bars=bars,
    )


@register.simple_tag
def top_values_svg(column: dict, n_rows: int = 0, width: int = WIDTH) -> SafeString | str:
    """Horizontal bars for the most frequent values, as a share of all rows."""
    top = list((column or {}).get("top") or [])[:TOP_SHOWN]
    if not top:
        return ""
    total = n_rows or sum(int(item.get("count", 0)) for item in top) or 1
    height = BAR_HEIGHT * len(top) + 2
    bars = format_html_join(
        "",
        '<rect x="0" y="{}" width="{}" height="{}"><title>{}: {} ({}%)</title></rect>',
        (
            (
                i * BAR_HEIGHT + 1,
                f"{max(width * int(item.get('count', 0)) / total, 1):.2f}",
                BAR_HEIGHT - 2,
                item.get("value"),
                int(item.get("count", 0)),
                f"{100 * int(item.get('count', 0)) / total:.1f}",
            )
            for i, item in enumerate(top)
        ),
    )
    summary = ", ".join(f"{item.get('value')} ({item.get('count')})" for item in top)
    return format_html(
        '<svg class="spark spark-bars" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'role="img" aria-label="Most frequent values of {name}: {summary}">{bars}</svg>',
        w=width,
        h=height,
        name=column.get("name", ""),
        summary=summary,
        bars=bars,
    )


@register.filter
def preview_rows(dataset) -> list[list]:
    """The preview as rows of cells in column order (records or lists are both accepted)."""
    names = dataset.column_names
    rows = []
    for row in dataset.preview or []:
        if isinstance(row, dict):
            rows.append([row.get(name) for name in names])
        else:
            rows.append(list(row))
    return rows


@register.filter
def warning_text(warning) -> str:
    """A stored warning as text: either a plain string or a {message, ...} dict."""
    if isinstance(warning, dict):
        return str(warning.get("message") or warning.get("detail") or warning)
    return str(warning)


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@register.filter
def delimiter_label(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, delimiter)


@register.filter
def setup_value(value) -> str:
    """A setup option's value for display: lists joined, everything else as text."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
