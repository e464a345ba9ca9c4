"""Benchmark the deployment figures: hourly summaries plus the log's tail, against the full scan
of the log they replaced.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/scratch .venv/bin/python bench/traffic.py
     [--rows 500000] [--repeat 5]

Not a test: it asserts nothing. It needs a PostgreSQL database it may fill (it migrates it).
One deployment (from `seed_scale --runs 100`) gets `--rows` more prediction-log rows spread over
the last 8 days. Timed, median of `--repeat`:

- full scan: the 24-hour stats and the 7-day traffic as the studio computed them before the
  summaries (the code is copied below), which read every row of their window;
- summary + tail: `deployment_stats` and `deployment_traffic` after a rollup;
- the rollup catching up on the whole log once, and one beat run after it (which counts its
  last hour again).

It prints a Markdown table with the queries of each way.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pycaret_studio.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from engine.models import Deployment, PredictionRequest  # noqa: E402
from engine.selectors.traffic import (  # noqa: E402
    deployment_stats,
    deployment_traffic,
    weighted_percentile,
)
from engine.services.traffic_rollup import traffic_rollup  # noqa: E402


def full_scan_stats(deployment, hours=24):
    """The 24-hour stats before the summaries (engine/selectors/deployments.py at 061a678)."""
    since = timezone.now() - timedelta(hours=hours)
    logged = PredictionRequest.objects.filter(deployment=deployment, created_at__gte=since)
    batch_rows = logged.filter(source="batch").aggregate(rows=Sum("n_rows"))["rows"] or 0
    recent = logged.exclude(source="batch")
    totals = recent.aggregate(requests=Count("id"), rows=Sum("n_rows"))
    ok = recent.filter(status_code=200)
    errors = totals["requests"] - ok.count()
    latencies = sorted(ok.order_by("-id").values_list("latency_ms", flat=True)[:20_000])
    items = [(ms, 1) for ms in latencies]
    return {
        "requests": totals["requests"],
        "rows": (totals["rows"] or 0) + batch_rows,
        "errors": errors,
        "p50_ms": weighted_percentile(items, 50),
        "p95_ms": weighted_percentile(items, 95),
    }


def full_scan_traffic(deployment, days=7):
    """The 7-day traffic before the summaries: the newest 50,000 calls of the window."""
    now = timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=days)
    rows = list(
        PredictionRequest.objects.filter(deployment=deployment, created_at__gte=start)
        .exclude(source="batch")
        .order_by("-created_at")
        .values_list("created_at", "status_code", "latency_ms")[:50_000]
    )
    buckets: dict[int, list] = {}
    for created_at, status_code, latency_ms in rows:
        index = int((created_at - start).total_seconds() // 3600)
        if 0 <= index < days * 24:
            buckets.setdefault(index, []).append((status_code, latency_ms))
    traffic = []
    for i in range(days * 24):
        calls = buckets.get(i, [])
        items = [(ms, 1) for status, ms in calls if status == 200]
        traffic.append(
            {
                "requests": len(calls),
                "errors": sum(1 for status, _ in calls if status != 200),
                "p50_ms": weighted_percentile(items, 50),
                "p95_ms": weighted_percentile(items, 95),
            }
        )
    return traffic


def timed(fn, repeat: int) -> tuple[float, int]:
    """(median milliseconds, queries of one call)."""
    with CaptureQueriesContext(connection) as queries:
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(queries)


def fill(deployment, rows: int) -> None:
    rng = random.Random(15)
    now = timezone.now()
    span = timedelta(days=8).total_seconds()
    for first in range(0, rows, 50_000):
        PredictionRequest.objects.bulk_create(
            PredictionRequest(
                deployment=deployment,
                created_at=now - timedelta(seconds=rng.random() * span),
                n_rows=rng.randint(1, 50),
                latency_ms=round(rng.lognormvariate(3, 0.8), 2),
                status_code=200 if rng.random() > 0.04 else 422,
            )
            for _ in range(min(50_000, rows - first))
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database this benchmark may fill.")
    call_command("migrate", verbosity=0)
    username = f"bench-{uuid.uuid4().hex[:6]}"
    call_command("seed_scale", "--runs", "100", "--username", username, verbosity=0)
    deployment = Deployment.objects.get(project__workspace__memberships__user__username=username)
    fill(deployment, args.rows)
    connection.cursor().execute("ANALYZE engine_predictionrequest")
    logged = deployment.prediction_requests.count()

    started = time.perf_counter()
    traffic_rollup(recount_from=timezone.now() - timedelta(days=9))
    catch_up_ms = (time.perf_counter() - started) * 1000
    beat_ms, beat_queries = timed(traffic_rollup, args.repeat)

    old = timed(lambda: (full_scan_stats(deployment), full_scan_traffic(deployment)), args.repeat)
    new = timed(
        lambda: (
            deployment_stats(deployment=deployment),
            deployment_traffic(deployment=deployment),
        ),
        args.repeat,
    )
    in_day = deployment.prediction_requests.filter(
        created_at__gte=timezone.now() - timedelta(hours=24)
    ).count()
    print(
        f"{logged:,} log rows for the deployment ({in_day:,} in the last 24 h); "
        f"median of {args.repeat}\n"
    )
    print("| | 24-hour stats + 7-day traffic | queries |")
    print("|---|---|---|")
    print(f"| full scan (before) | {old[0]:.0f} ms | {old[1]} |")
    print(f"| summary + tail | {new[0]:.0f} ms | {new[1]} |")
    print(f"| rollup, catching up on all {logged:,} rows once | {catch_up_ms:.0f} ms | |")
    print(f"| rollup, one beat run (its last hour again) | {beat_ms:.0f} ms | {beat_queries} |")


if __name__ == "__main__":
    main()
