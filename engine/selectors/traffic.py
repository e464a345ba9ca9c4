"""A deployment's request figures: the last 24 hours' totals and the last 7 days by the hour.

They stay cheap whatever the size of the prediction log. Whole hours before the rollup's
watermark come from PredictionHour (one row per deployment and hour, written by beat's
`studio.traffic_rollup`, see engine/services/traffic_rollup.py). Only the log rows from the
watermark on, plus for the 24-hour window the part of its first hour before the first whole
hour, are read from PredictionRequest, through its (deployment, created_at) index.

Counts are exact. p50/p95 are exact over the log rows read directly; an hour read from the
summary brings its latency histogram (buckets LATENCY_GROWTH wide), which puts a percentile
within about 2.5% of the exact value.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Floor, Greatest, Ln, TruncHour
from django.utils import timezone

from engine.models import Deployment, PredictionHour, PredictionRequest, PredictionRollup

STATS_HOURS = 24
TRAFFIC_DAYS = 7
# Latency histogram buckets: [GROWTH**i, GROWTH**(i+1)) ms; below the floor counts as the floor.
LATENCY_GROWTH = 1.05
LATENCY_FLOOR_MS = 0.001
# The log rows read directly bring their exact latencies when there are at most this many
# successful calls among them, else their histogram too.
EXACT_LATENCIES_MAX = 20_000
HOUR = timedelta(hours=1)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_ceil(moment: datetime) -> datetime:
    floor = hour_floor(moment)
    return floor if floor == moment else floor + HOUR


def bucket_value(index: int) -> float:
    """The latency a histogram bucket stands for: its geometric middle."""
    return LATENCY_GROWTH ** (index + 0.5)


@dataclass
class Counts:
    """Predict traffic of one group of log rows (or summary hours)."""

    requests: int = 0
    errors: int = 0
    rows: int = 0
    batch_rows: int = 0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.rows += other.rows
        self.batch_rows += other.batch_rows
        for index, n in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0) + n

    def add_hour(self, hour: PredictionHour) -> None:
        histogram = {int(k): v for k, v in hour.latency_histogram.items()}
        self.add(Counts(hour.requests, hour.errors, hour.rows, hour.batch_rows, histogram))

    @property
    def ok(self) -> int:
        return sum(self.histogram.values())


def log_counts(requests: QuerySet[PredictionRequest], **keys) -> dict[tuple, Counts]:
    """`requests` counted in one grouped query, per value of the `keys` expressions (a tuple,
    in their order; `()` when none). Batch chunks add rows only; predict calls add requests,
    rows, errors (not 200) and, when successful, their latency to the histogram."""
    bucket = Floor(
        Ln(Greatest(F("latency_ms"), Value(LATENCY_FLOOR_MS)))
        / Value(math.log(LATENCY_GROWTH), output_field=FloatField())
    )
    grouped = (
        requests.order_by()
        .annotate(
            **keys,
            is_batch=Case(When(source="batch", then=Value(True)), default=Value(False)),
            is_ok=Case(When(status_code=200, then=Value(True)), default=Value(False)),
            bucket=Case(
                When(~Q(source="batch") & Q(status_code=200), then=bucket),
                default=None,
                output_field=FloatField(),
            ),
        )
        .values(*keys, "is_batch", "is_ok", "bucket")
        .annotate(n=Count("id"), n_rows=Sum("n_rows"))
    )
    found: dict[tuple, Counts] = {}
    for group in grouped:
        counts = found.setdefault(tuple(group[k] for k in keys), Counts())
        if group["is_batch"]:
            counts.batch_rows += group["n_rows"] or 0
            continue
        counts.requests += group["n"]
        counts.rows += group["n_rows"] or 0
        if not group["is_ok"]:
            counts.errors += group["n"]
        else:
            index = int(group["bucket"])
            counts.histogram[index] = counts.histogram.get(index, 0) + group["n"]
    return found


def weighted_percentile(items: list[tuple[float, int]], q: float) -> float | None:
    """The q-th percentile of values given as (value, how many), interpolated between the two
    nearest ranks as numpy's default does."""
    items = sorted(item for item in items if item[1] > 0)
    total = sum(n for _, n in items)
    if not total:
        return None
    ends = []  # ends[i]: how many values up to and including items[i]
    running = 0
    for _, n in items:
        running += n
        ends.append(running)

    def at(rank: int) -> float:
        return items[bisect.bisect_right(ends, rank)][0]

    rank = (total - 1) * q / 100
    low = int(rank)
    high = min(low + 1, total - 1)
    return round(at(low) + (at(high) - at(low)) * (rank - low), 2)


def _latency_items(counts: Counts, exact: list[float] | None) -> list[tuple[float, int]]:
    items = [(bucket_value(i), n) for i, n in counts.histogram.items()]
    return items + [(ms, 1) for ms in exact or ()]


def rolled_up_to() -> datetime | None:
    """The rollup's watermark: every log row before it is counted in PredictionHour."""
    return PredictionRollup.objects.values_list("rolled_up_to", flat=True).first()


def _ok_calls(requests: QuerySet[PredictionRequest]) -> QuerySet[PredictionRequest]:
    return requests.filter(status_code=200).exclude(source="batch").order_by()


def deployment_stats(
    *, deployment: Deployment, hours: int = STATS_HOURS, now: datetime | None = None
) -> dict[str, Any]:
    """Requests, rows, errors and p50/p95 latency over the last `hours`.

    Rows count every scored row, batch CSVs' too (`batch_rows` says how many of them came
    from batches); requests, errors and latency are the predict calls'."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    first_whole = hour_ceil(since)
    mark = rolled_up_to()
    summary_end = max(first_whole, mark) if mark else first_whole
    total = Counts()
    for hour in PredictionHour.objects.filter(
        deployment=deployment, hour__gte=first_whole, hour__lt=summary_end
    ):
        total.add_hour(hour)
    direct = PredictionRequest.objects.filter(deployment=deployment).filter(
        Q(created_at__gte=since, created_at__lt=first_whole) | Q(created_at__gte=summary_end)
    )
    from_log = log_counts(direct).get((), Counts())
    exact = None
    if from_log.ok <= EXACT_LATENCIES_MAX:
        exact = list(_ok_calls(direct).values_list("latency_ms", flat=True))
        from_log.histogram = {}
    total.add(from_log)
    latencies = _latency_items(total, exact)
    return {
        "hours": hours,
        "requests": total.requests,
        "rows": total.rows + total.batch_rows,
        "batch_rows": total.batch_rows,
        "errors": total.errors,
        "p50_ms": weighted_percentile(latencies, 50),
        "p95_ms": weighted_percentile(latencies, 95),
    }


def deployment_traffic(
    *, deployment: Deployment, days: int = TRAFFIC_DAYS, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Predict calls per hour over the last `days`, oldest first, one entry per hour (empty
    hours too): {hour, requests, errors, p50_ms, p95_ms}. Batch chunks are not calls."""
    now = now or timezone.now()
    end = hour_floor(now) + HOUR
    start = end - timedelta(days=days)
    mark = rolled_up_to()
    summary_end = min(end, max(start, mark)) if mark else start
    per_hour: dict[datetime, Counts] = {}
    for hour in PredictionHour.objects.filter(
        deployment=deployment, hour__gte=start, hour__lt=summary_end
    ):
        per_hour.setdefault(hour.hour, Counts()).add_hour(hour)
    direct = PredictionRequest.objects.filter(
        deployment=deployment, created_at__gte=summary_end, created_at__lt=end
    )
    from_log = log_counts(direct, at_hour=TruncHour("created_at", tzinfo=UTC))
    exact: dict[datetime, list[float]] = {}
    if sum(c.ok for c in from_log.values()) <= EXACT_LATENCIES_MAX:
        for created_at, ms in _ok_calls(direct).values_list("created_at", "latency_ms"):
            exact.setdefault(hour_floor(created_at), []).append(ms)
        for counts in from_log.values():
            counts.histogram = {}
    for (at_hour,), counts in from_log.items():
        per_hour.setdefault(at_hour, Counts()).add(counts)
    traffic = []
    for i in range(days * 24):
        hour = start + i * HOUR
        counts = per_hour.get(hour, Counts())
        latencies = _latency_items(counts, exact.get(hour))
        traffic.append(
            {
                "hour": hour,
                "requests": counts.requests,
                "errors": counts.errors,
                "p50_ms": weighted_percentile(latencies, 50),
                "p95_ms": weighted_percentile(latencies, 95),
            }
        )
    return traffic
