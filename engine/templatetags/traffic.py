"""The deployment page's traffic chart: predict calls and errors per hour, and p50/p95 latency,
over the last days, as a server-drawn SVG (no script). Every value goes through format_html."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

W, PAD_LEFT, PAD_RIGHT = 720, 44, 8
BARS_TOP, BARS_H = 8, 90
LAT_TOP, LAT_H = 128, 70
H = LAT_TOP + LAT_H + 24


def _line(points: list[tuple[float, float] | None]) -> list[str]:
    """Polyline segments: a gap where an hour had no successful call."""
    runs, current = [], []
    for point in points:
        if point is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(point)
    if current:
        runs.append(current)
    return [" ".join(f"{x:.1f},{y:.1f}" for x, y in run) for run in runs if run]


@register.simple_tag
def traffic_svg(traffic: list[dict] | None) -> SafeString | str:
    """Bars of calls per hour (errors in red on top of them), and below them p50 and p95
    latency lines; `traffic` is deployment_traffic()'s list, oldest hour first."""
    if not traffic:
        return ""
    n = len(traffic)
    width = (W - PAD_LEFT - PAD_RIGHT) / n
    peak = max(max(h["requests"] for h in traffic), 1)
    latencies = [h[k] for h in traffic for k in ("p50_ms", "p95_ms") if h[k] is not None]
    slowest = max(latencies, default=0.0) or 1.0

    def x(i: int) -> float:
        return PAD_LEFT + i * width

    bars = []
    for i, hour in enumerate(traffic):
        if not hour["requests"]:
            continue
        total_h = hour["requests"] / peak * BARS_H
        error_h = hour["errors"] / peak * BARS_H
        label = (
            f"{hour['hour']:%Y-%m-%d %H:00}: {hour['requests']} call"
            f"{'' if hour['requests'] == 1 else 's'}, {hour['errors']} error"
            f"{'' if hour['errors'] == 1 else 's'}"
        )
        bars.append(
            (
                f"{x(i):.1f}",
                f"{BARS_TOP + BARS_H - total_h:.1f}",
                f"{max(width - 0.5, 0.5):.1f}",
                f"{total_h - error_h:.1f}",
                f"{BARS_TOP + BARS_H - error_h:.1f}",
                f"{error_h:.1f}",
                label,
            )
        )
    bar_markup = format_html_join(
        "",
        '<g><title>{6}</title><rect class="ok" x="{0}" y="{1}" width="{2}" height="{3}"/>'
        '<rect class="errors" x="{0}" y="{4}" width="{2}" height="{5}"/></g>',
        bars,
    )

    def lat_points(key: str):
        return [
            None
            if h[key] is None
            else (x(i) + width / 2, LAT_TOP + LAT_H - h[key] / slowest * LAT_H)
            for i, h in enumerate(traffic)
        ]

    lines = format_html_join(
        "",
        '<polyline class="{}" points="{}"/>',
        [("p50", pts) for pts in _line(lat_points("p50_ms"))]
        + [("p95", pts) for pts in _line(lat_points("p95_ms"))],
    )
    total = sum(h["requests"] for h in traffic)
    errors = sum(h["errors"] for h in traffic)
    first, last = traffic[0]["hour"], traffic[-1]["hour"]
    return format_html(
        '<svg class="traffic-chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="Predict calls per hour from {first} to {last}: {total} call{s}, {errors} '
        'error{es}; p50 and p95 latency per hour">'
        '<text x="2" y="{bars_label}">{peak}/h</text>{bars}'
        '<line class="axis" x1="{left}" x2="{right}" y1="{bars_base}" y2="{bars_base}"/>'
        '<text x="2" y="{lat_label}">{slowest} ms</text>{lines}'
        '<line class="axis" x1="{left}" x2="{right}" y1="{lat_base}" y2="{lat_base}"/>'
        '<text x="{left}" y="{bottom}">{first}</text>'
        '<text x="{right}" y="{bottom}" text-anchor="end">{last}</text></svg>',
        w=W,
        h=H,
        first=f"{first:%b %d %H:00}",
        last=f"{last:%b %d %H:00}",
        total=total,
        s="" if total == 1 else "s",
        errors=errors,
        es="" if errors == 1 else "s",
        bars_label=BARS_TOP + 8,
        peak=peak,
        bars=bar_markup,
        left=PAD_LEFT,
        right=W - PAD_RIGHT,
        bars_base=BARS_TOP + BARS_H,
        lat_label=LAT_TOP + 8,
        slowest=f"{slowest:.1f}",
        lines=lines,
        lat_base=LAT_TOP + LAT_H,
        bottom=H - 6,
    )


@register.filter
def traffic_total(traffic: list[dict] | None) -> int:
    return sum(h["requests"] for h in traffic or [])
