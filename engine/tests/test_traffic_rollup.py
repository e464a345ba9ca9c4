"""The deployment figures from hourly summaries plus the log's tail: equal to a full scan of the
log, fresh, bounded, and the rollup idempotent and safe to run twice at once."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import (
    Deployment,
    Experiment,
    Pipeline,
    PredictionHour,
    PredictionRequest,
    PredictionRollup,
    Run,
)
from engine.selectors.traffic import (
    deployment_stats,
    deployment_traffic,
    hour_ceil,
    hour_floor,
    rolled_up_to,
)
from engine.services.traffic_rollup import ROLLUP_GRACE, traffic_rollup
from engine.tasks import traffic_rollup_task
from engine.tests.factories import HTMX, iris_features_frame, make_dataset, make_project

pytestmark = pytest.mark.django_db

# A latency read from a summary hour is its histogram bucket's middle: within 2.5%.
HISTOGRAM = 0.025


def make_deployment(user, slug: str) -> Deployment:
    project = make_project(user, name=f"Project {slug}")
    dataset = make_dataset(project, iris_features_frame(), name=f"{slug}.csv")
    experiment = Experiment.objects.create(
        project=project, dataset=dataset, name=slug, task="clustering"
    )
    run = Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status="succeeded")
    pipeline = Pipeline.objects.create(
        project=project,
        name=slug,
        version=1,
        origin_run=run,
        task="clustering",
        model_id="kmeans",
        artifact_path=f"{slug}.pkl",
        artifact_sha256="0" * 64,
    )
    return Deployment.objects.create(project=project, slug=slug, pipeline=pipeline)


def write_log(deployment, now, *, n: int, seed: int, span=timedelta(days=8, hours=5)) -> None:
    """`n` log rows over `span` before `now`: calls that succeed or fail, and batch chunks.
    None in the 10 minutes after `now` - 24 h, so a window that starts a little after `now`
    holds the same rows."""
    rng = random.Random(seed)
    day_ago = now - timedelta(hours=24)
    rows = []
    for _ in range(n):
        batch = rng.random() < 0.1
        created_at = now - span * rng.random()
        if day_ago <= created_at < day_ago + timedelta(minutes=10):
            created_at -= timedelta(minutes=10)
        rows.append(
            PredictionRequest(
                deployment=deployment,
                created_at=created_at,
                n_rows=rng.randint(1, 500 if batch else 40),
                latency_ms=round(rng.lognormvariate(3, 1), 3),
                status_code=200 if batch or rng.random() > 0.08 else rng.choice([422, 500]),
                source="batch" if batch else "api",
            )
        )
    PredictionRequest.objects.bulk_create(rows)


def full_scan_stats(deployment, now, hours=24) -> dict:
    """The figures as the studio computed them before the summaries: a scan of the window."""
    logged = list(
        PredictionRequest.objects.filter(
            deployment=deployment, created_at__gte=now - timedelta(hours=hours)
        ).values_list("source", "n_rows", "status_code", "latency_ms")
    )
    calls = [row for row in logged if row[0] != "batch"]
    batch_rows = sum(row[1] for row in logged if row[0] == "batch")
    ok = sorted(row[3] for row in calls if row[2] == 200)
    return {
        "hours": hours,
        "requests": len(calls),
        "rows": sum(row[1] for row in calls) + batch_rows,
        "batch_rows": batch_rows,
        "errors": sum(1 for row in calls if row[2] != 200),
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
    }


def full_scan_traffic(deployment, now, days=7) -> list[dict]:
    end = hour_floor(now) + timedelta(hours=1)
    start = end - timedelta(days=days)
    calls = PredictionRequest.objects.filter(
        deployment=deployment, created_at__gte=start, created_at__lt=end
    ).exclude(source="batch")
    hours = {start + timedelta(hours=i): [] for i in range(days * 24)}
    for created_at, status, ms in calls.values_list("created_at", "status_code", "latency_ms"):
        hours[hour_floor(created_at)].append((status, ms))
    traffic = []
    for hour, found in hours.items():
        ok = sorted(ms for status, ms in found if status == 200)
        traffic.append(
            {
                "hour": hour,
                "requests": len(found),
                "errors": sum(1 for status, _ in found if status != 200),
                "p50_ms": percentile(ok, 50),
                "p95_ms": percentile(ok, 95),
            }
        )
    return traffic


def percentile(values, q):
    if not values:
        return None
    rank = (len(values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (rank - low), 2)


def assert_same_figures(found: dict, expected: dict, rel: float) -> None:
    counts = [k for k in expected if not k.endswith("_ms")]
    assert {k: found[k] for k in counts} == {k: expected[k] for k in counts}
    for key in ("p50_ms", "p95_ms"):
        if expected[key] is None:
            assert found[key] is None, key
        else:
            assert found[key] == pytest.approx(expected[key], rel=rel, abs=0.01), key


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def busy(alice, now):
    """Two deployments with 8 days of log; the figures are asked for the first."""
    busy, other = make_deployment(alice, "busy"), make_deployment(alice, "other")
    write_log(busy, now, n=4000, seed=1)
    write_log(other, now, n=500, seed=2)
    return busy


def test_before_any_rollup_the_figures_are_the_full_scans_exactly(busy, now):
    assert deployment_stats(deployment=busy, now=now) == full_scan_stats(busy, now)
    assert deployment_traffic(deployment=busy, now=now) == full_scan_traffic(busy, now)


def test_rolled_up_figures_equal_a_full_scan_of_the_log(busy, now):
    written = traffic_rollup(now=now)
    assert rolled_up_to() == hour_floor(now - ROLLUP_GRACE)
    assert written > 8 * 24  # every hour of 8 days of the busy one, and the other's
    summed = PredictionHour.objects.filter(deployment=busy).aggregate(
        requests=Sum("requests"), batch_rows=Sum("batch_rows")
    )
    before_mark = PredictionRequest.objects.filter(deployment=busy, created_at__lt=rolled_up_to())
    assert summed["requests"] == before_mark.exclude(source="batch").count()
    assert (
        summed["batch_rows"] == before_mark.filter(source="batch").aggregate(n=Sum("n_rows"))["n"]
    )

    assert_same_figures(
        deployment_stats(deployment=busy, now=now), full_scan_stats(busy, now), HISTOGRAM
    )
    traffic = deployment_traffic(deployment=busy, now=now)
    expected = full_scan_traffic(busy, now)
    assert [h["hour"] for h in traffic] == [h["hour"] for h in expected]
    assert sum(h["requests"] for h in traffic) > 3000
    for found, wanted in zip(traffic, expected, strict=True):
        assert_same_figures(found, wanted, HISTOGRAM)
    # A 48-hour window: most of it from the summary, its first part hour from the log.
    assert_same_figures(
        deployment_stats(deployment=busy, hours=48, now=now),
        full_scan_stats(busy, now, hours=48),
        HISTOGRAM,
    )


def test_rows_logged_after_the_rollup_are_counted_at_once(busy, now):
    traffic_rollup(now=now)
    before = deployment_stats(deployment=busy, now=now)
    PredictionRequest.objects.create(deployment=busy, created_at=now, n_rows=7, latency_ms=3.0)
    PredictionRequest.objects.create(deployment=busy, created_at=now, status_code=500, n_rows=2)
    after = deployment_stats(deployment=busy, now=now)
    assert after["requests"] == before["requests"] + 2
    assert after["errors"] == before["errors"] + 1
    assert after["rows"] == before["rows"] + 9
    assert (
        deployment_traffic(deployment=busy, now=now)[-1]["requests"]
        == (full_scan_traffic(busy, now)[-1]["requests"])
    )


def test_the_figures_read_summary_rows_and_the_logs_tail_only(busy, now):
    traffic_rollup(now=now)
    stats = deployment_stats(deployment=busy, now=now)
    traffic = deployment_traffic(deployment=busy, now=now)
    # The whole hours the summary covers are no longer read from the log: dropping those log
    # rows (as a retention purge would) changes nothing.
    covered = PredictionRequest.objects.filter(
        created_at__gte=hour_ceil(now - timedelta(hours=24)), created_at__lt=rolled_up_to()
    )
    assert covered.filter(deployment=busy).count() > 300
    covered.delete()
    with CaptureQueriesContext(connection) as queries:
        assert deployment_stats(deployment=busy, now=now) == stats
    assert len(queries) == 4  # watermark, summary hours, the log's tail grouped, its latencies
    summary_sql = queries[1]["sql"]
    assert "engine_predictionhour" in summary_sql and "engine_predictionrequest" not in summary_sql
    with CaptureQueriesContext(connection) as queries:
        assert deployment_traffic(deployment=busy, now=now) == traffic
    assert len(queries) == 4


def test_the_rollup_is_idempotent_and_takes_in_rows_logged_late(busy, now):
    traffic_rollup(now=now)
    first = sorted(PredictionHour.objects.values_list("deployment", "hour", "requests", "rows"))
    assert traffic_rollup(now=now) > 0  # it counts its last hour again
    assert (
        sorted(PredictionHour.objects.values_list("deployment", "hour", "requests", "rows"))
        == first
    )
    # A row logged late, for an hour before the watermark: the next rollup counts it.
    late = rolled_up_to() - timedelta(minutes=30)
    PredictionRequest.objects.create(deployment=busy, created_at=late, latency_ms=9.0)
    hour = PredictionHour.objects.get(deployment=busy, hour=hour_floor(late))
    traffic_rollup(now=now)
    assert PredictionHour.objects.get(pk__gt=0, deployment=busy, hour=hour.hour).requests == (
        hour.requests + 1
    )


def test_a_rollup_far_behind_catches_up_chunk_by_chunk(alice, now):
    deployment = make_deployment(alice, "old")
    write_log(deployment, now, n=600, seed=3, span=timedelta(days=20))
    traffic_rollup(now=now)
    hours = PredictionHour.objects.filter(deployment=deployment)
    assert (
        hours.aggregate(n=Sum("requests"))["n"]
        == PredictionRequest.objects.filter(created_at__lt=rolled_up_to())
        .exclude(source="batch")
        .count()
    )
    assert hours.order_by("hour").first().hour <= now - timedelta(days=19)


def test_the_beat_task_rolls_up_and_is_scheduled(busy, settings):
    from pycaret_studio.celery import app

    (entry,) = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "studio.traffic_rollup"
    ]
    assert traffic_rollup_task.name == entry["task"]
    assert app.tasks[entry["task"]].apply().get() > 0
    assert PredictionRollup.objects.get().rolled_up_to == hour_floor(timezone.now() - ROLLUP_GRACE)
    assert PredictionHour.objects.filter(deployment=busy).exists()


def test_the_stats_route_and_page_show_the_rolled_up_figures(alice_client, bob_client, busy):
    traffic_rollup()
    now = timezone.now()
    body = alice_client.get(f"/api/v1/deployments/{busy.slug}/stats")
    assert body.status_code == 200
    assert_same_figures(body.json(), full_scan_stats(busy, now), HISTOGRAM)
    page = alice_client.get(f"/deployments/{busy.slug}/")
    assert page.status_code == 200 and 'data-testid="traffic-chart"' in page.content.decode()
    fragment = alice_client.get(f"/deployments/{busy.slug}/", **HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert bob_client.get(f"/api/v1/deployments/{busy.slug}/stats").status_code == 404


def test_seed_scale_fills_the_summary(now):
    call_command("seed_scale", "--runs", "100", "--username", "small")
    deployment = Deployment.objects.get(slug__endswith="model-1")
    mark = rolled_up_to()
    assert mark is not None
    hours = PredictionHour.objects.filter(deployment=deployment)
    assert (
        hours.aggregate(n=Sum("requests"))["n"]
        == deployment.prediction_requests.filter(created_at__lt=mark).count()
    )
    now = timezone.now()
    assert_same_figures(
        deployment_stats(deployment=deployment, now=now),
        full_scan_stats(deployment, now),
        HISTOGRAM,
    )


@pytest.mark.django_db(transaction=True)
def test_two_rollups_at_once_count_every_hour_once(alice, now):
    deployment = make_deployment(alice, "twice")
    write_log(deployment, now, n=2000, seed=4)
    errors = []
    start = threading.Barrier(2)

    def rollup():
        try:
            start.wait()
            traffic_rollup(now=now)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rollup) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PredictionRollup.objects.count() == 1
    counted = PredictionHour.objects.aggregate(n=Sum("requests"))["n"]
    assert (
        counted
        == PredictionRequest.objects.filter(created_at__lt=rolled_up_to())
        .exclude(source="batch")
        .count()
    )
