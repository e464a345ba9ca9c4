"""Rolling the prediction log up into hourly summaries (PredictionHour), for the deployment
page's figures (engine/selectors/traffic.py).

Beat runs `traffic_rollup` every few minutes. It counts whole hours that ended at least
ROLLUP_GRACE ago and moves the watermark (PredictionRollup) to the end of the last one. Each
hour is counted from the log from scratch and replaces its summary rows, so a rollup can run
again over the same hours with the same result; every run also counts again the ROLLUP_RECOUNT
before the watermark, which takes in log rows written late. Two rollups at once queue on the
watermark row's lock (select_for_update), so they never write the same hour at the same time.
The write path of the log is not touched: serving only inserts PredictionRequest rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import F, Min
from django.db.models.functions import TruncHour
from django.utils import timezone

from engine.models import PredictionHour, PredictionRequest, PredictionRollup
from engine.selectors.traffic import hour_floor, log_counts

logger = logging.getLogger(__name__)

# A log row is written at most this long after its created_at (batched log writes).
ROLLUP_GRACE = timedelta(minutes=2)
# Each rollup counts this much before the watermark again, for rows written later than that.
ROLLUP_RECOUNT = timedelta(hours=1)
# The most of the log one transaction counts; a rollup far behind catches up chunk by chunk.
ROLLUP_CHUNK = timedelta(days=7)
WATERMARK_PK = 1


def traffic_rollup(*, now: datetime | None = None, recount_from: datetime | None = None) -> int:
    """Count the log into PredictionHour up to the last whole hour older than ROLLUP_GRACE.
    `recount_from` counts again from that moment (after rows were added in the past, as
    seed_scale does). Returns how many hourly summary rows were written."""
    target = hour_floor((now or timezone.now()) - ROLLUP_GRACE)
    PredictionRollup.objects.get_or_create(pk=WATERMARK_PK)
    written = 0
    while True:
        with transaction.atomic():
            mark = PredictionRollup.objects.select_for_update().get(pk=WATERMARK_PK)
            start = _start(mark.rolled_up_to, recount_from, target)
            recount_from = None
            reached = mark.rolled_up_to or start
            end = min(target, max(start, reached) + ROLLUP_CHUNK)
            if end > start:
                written += _count_hours(start, end)
            if end > reached or mark.rolled_up_to is None:
                mark.rolled_up_to = end
                mark.save(update_fields=["rolled_up_to", "updated_at"])
        if end >= target:
            logger.info("traffic rollup: %s hourly rows, watermark %s", written, end)
            return written


def _start(rolled_up_to, recount_from, target: datetime) -> datetime:
    if rolled_up_to is not None:
        start = rolled_up_to - ROLLUP_RECOUNT
    else:
        first = PredictionRequest.objects.aggregate(first=Min("created_at"))["first"]
        start = hour_floor(first) if first else target
    if recount_from is not None:
        start = min(start, hour_floor(recount_from))
    return min(start, target)


def _count_hours(start: datetime, end: datetime) -> int:
    """Replace the summary rows of [start, end) with counts from the log."""
    logged = PredictionRequest.objects.filter(created_at__gte=start, created_at__lt=end)
    counted = log_counts(
        logged, deployment_key=F("deployment_id"), at_hour=TruncHour("created_at", tzinfo=UTC)
    )
    PredictionHour.objects.filter(hour__gte=start, hour__lt=end).delete()
    PredictionHour.objects.bulk_create(
        [
            PredictionHour(
                deployment_id=deployment_id,
                hour=at_hour,
                requests=counts.requests,
                errors=counts.errors,
                rows=counts.rows,
                batch_rows=counts.batch_rows,
                latency_histogram={str(i): n for i, n in sorted(counts.histogram.items())},
            )
            for (deployment_id, at_hour), counts in counted.items()
        ],
        batch_size=1000,
    )
    return len(counted)
