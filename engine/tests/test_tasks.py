"""Celery beat: the schedule names only registered tasks, and each periodic task, run once the
way beat sends it (by its registered name), does its job."""

from datetime import timedelta

import pandas as pd
import pytest
from django.conf import settings
from django.utils import timezone

from engine.models import Experiment, PredictionSample, Run
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.services.prediction_log import SAMPLES_KEPT
from engine.tasks import run_execute_task
from engine.tests.factories import make_dataset, make_project, make_succeeded_run
from pycaret_studio.celery import app

pytestmark = pytest.mark.django_db

# Each periodic task has a test below; a new entry in the schedule needs one too.
PERIODIC = {
    "studio.runs_reap",
    "studio.runs_redispatch",
    "studio.samples_trim",
    "studio.traffic_rollup",
}


def scheduled_task(name: str):
    """The registered task beat sends for the schedule entry of task `name`."""
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == name]
    return app.tasks[entry["task"]]


def test_the_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()  # what a worker and beat do at start: autodiscovery
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert names == PERIODIC
    assert names <= set(app.tasks)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        # A message beat sends expires before the next one is due: no pile of stale copies.
        assert 0 < entry["options"]["expires"] < entry["schedule"], entry["task"]


@pytest.fixture
def experiment(alice) -> Experiment:
    frame = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )


def test_the_reaper_task_fails_a_run_whose_heartbeat_went_stale(experiment):
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.STUDIO_REAPER_STALE_S + 60)
    running = {"plan": {"kind": "setup"}, "status": "running", "started_at": long_ago}
    stale = Run.objects.create(experiment=experiment, heartbeat_at=long_ago, **running)
    alive = Run.objects.create(experiment=experiment, heartbeat_at=now, **running)

    assert scheduled_task("studio.runs_reap").apply().get() == 1

    stale.refresh_from_db()
    alive.refresh_from_db()
    assert (stale.status, stale.error_type) == ("failed", "WorkerLost")
    assert stale.error_message.startswith("worker lost: no heartbeat for")
    assert alive.status == "running" and alive.error_message == ""


def test_the_redispatch_task_sends_a_queued_run_that_never_reached_the_broker(
    experiment, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        run_execute_task, "apply_async", lambda args, task_id: sent.append((args, task_id))
    )
    plan = {"kind": "setup"}
    a_while_ago = timezone.now() - timedelta(minutes=5)
    lost = Run.objects.create(experiment=experiment, plan=plan, queued_at=a_while_ago)
    dispatched = Run.objects.create(
        experiment=experiment, plan=plan, queued_at=a_while_ago, dispatched_at=a_while_ago
    )
    just_submitted = Run.objects.create(experiment=experiment, plan=plan)  # still on its way

    assert scheduled_task("studio.runs_redispatch").apply().get() == 1

    assert [args for args, _ in sent] == [[lost.pk]]
    lost.refresh_from_db()
    assert lost.status == "queued" and lost.dispatched_at is not None
    assert lost.celery_task_id == sent[0][1]
    for run in (dispatched, just_submitted):
        before = run.dispatched_at
        run.refresh_from_db()
        assert run.dispatched_at == before


def test_the_trim_task_keeps_only_each_deployments_newest_samples(alice):
    run = make_succeeded_run(alice, "classifier")
    pipeline = pipeline_promote(run=run, user=alice, name="Screening")
    busy, _ = deployment_deploy(pipeline=pipeline, user=alice, slug="busy", acknowledge_risks=True)
    quiet, _ = deployment_deploy(
        pipeline=pipeline, user=alice, slug="quiet", acknowledge_risks=True
    )
    PredictionSample.objects.bulk_create(
        PredictionSample(deployment=busy, inputs={"n": i}) for i in range(SAMPLES_KEPT + 25)
    )
    PredictionSample.objects.bulk_create(
        PredictionSample(deployment=quiet, inputs={"n": i}) for i in range(10)
    )

    assert scheduled_task("studio.samples_trim").apply().get() == 25

    kept = sorted(busy.samples.values_list("inputs__n", flat=True))
    assert kept == list(range(25, SAMPLES_KEPT + 25))  # the oldest 25 went
    assert quiet.samples.count() == 10
