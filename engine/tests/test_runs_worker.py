"""Runs end to end through a real Celery worker process, the configured broker and database."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from engine.models import Experiment, Run
from engine.services.runs import run_cancel, run_submit, runs_reap, runs_redispatch
from engine.tasks import run_execute_task
from engine.tests.factories import (
    breast_cancer_frame,
    make_dataset,
    make_experiment,
    make_project,
)
from pycaret_studio.celery import app
from pycaret_studio.tests.support import TEST_ROOT, start_worker, stop_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

FAST_MODELS = ["lr", "dt", "nb"]
# Enough work that a run is still busy when the test interferes with it.
SLOW_MODELS = ["lr", "dt", "nb", "knn", "rf", "et", "ada", "gbc", "lightgbm", "ridge", "lda"]
SESSION_ID = 123
TERMINAL = ("succeeded", "failed", "cancelled")


def wait_for(check: Callable[[], object], *, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    log = f"\nworker log:\n{worker.log()[-5000:]}" if worker is not None else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{log}")


def wait_until_finished(run: Run, *, worker, timeout: float = 180) -> Run:
    def finished():
        run.refresh_from_db()
        return run.status in TERMINAL

    wait_for(finished, timeout=timeout, what=f"run {run.pk} to finish", worker=worker)
    return run


def wait_until_busy(run: Run, *, worker, timeout: float = 90) -> None:
    """Until the run is inside PyCaret (its first model has been scored)."""

    def busy():
        run.refresh_from_db()
        assert run.status in ("queued", "running"), run.error_message
        return run.events.filter(message__startswith="compare:").exists()

    wait_for(busy, timeout=timeout, what=f"run {run.pk} to start comparing", worker=worker)


@pytest.fixture
def breast_cancer(alice):
    project = make_project(alice, name="Screening")
    return make_dataset(project, breast_cancer_frame(), name="breast_cancer.csv")


@pytest.fixture
def experiment(breast_cancer) -> Experiment:
    return make_experiment(breast_cancer, target="target", setup={"session_id": SESSION_ID})


@contextlib.contextmanager
def own_worker(name: str):
    """A worker of this test's own, on its own queue, so killing it spares the shared one."""
    queue = f"studio-test-{name}-{uuid.uuid4().hex[:6]}"
    worker = start_worker(queue=queue, log_path=TEST_ROOT / f"worker-{name}.log")
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous
        stop_worker(worker)


@contextlib.contextmanager
def broker_unreachable():
    """Point this process's Celery app at a closed port, then put everything back."""
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}

    def reset_pools():
        # Drop the app's references only: kombu keeps its pools per connection URL, and the
        # good ones must still be open when the URL is put back.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        app.conf.update(saved)


def test_compare_succeeds_with_leaderboard_metrics_plots_and_artifact(
    celery_worker, alice, experiment
):
    plan = {"kind": "compare", "include": FAST_MODELS, "fold": 3}
    run = run_submit(experiment=experiment, plan=plan, user=alice)
    assert run.dispatched_at is not None, run.dispatch_error
    run = wait_until_finished(run, worker=celery_worker)

    assert run.status == "succeeded", f"{run.error_category}: {run.error_message}"
    assert sorted(row["model_id"] for row in run.leaderboard) == sorted(FAST_MODELS)
    assert run.model_id == run.leaderboard[0]["model_id"]
    assert run.leaderboard_sort == "Accuracy"
    assert 0.8 < run.metrics["Accuracy"] <= 1
    run_dir = Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
    assert {"auc", "confusion_matrix"} <= {plot["name"] for plot in run.plots}
    for plot in run.plots:
        assert (run_dir / plot["filename"]).read_bytes().startswith(b"\x89PNG")
    artifact = Path(settings.MEDIA_ROOT) / run.artifact_path
    assert artifact.parent == run_dir
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == run.artifact_sha256
    assert run.environment["pycaret"] == "3.3.2"
    assert run.environment["dataset_sha256"] == experiment.dataset.sha256
    assert run.environment["session_id"] == SESSION_ID
    assert run.progress_done == run.progress_total > 0
    seqs = list(run.events.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    messages = list(run.events.values_list("message", flat=True))
    assert sum(m.startswith("compare:") for m in messages) == len(FAST_MODELS)
    assert run.worker_pid in celery_worker.pool_child_pids()


def test_the_leaderboard_equals_bare_pycaret_with_the_same_options(
    celery_worker, alice, experiment
):
    plan = {"kind": "compare", "include": FAST_MODELS, "fold": 3}
    run = run_submit(experiment=experiment, plan=plan, user=alice)
    run = wait_until_finished(run, worker=celery_worker)
    assert run.status == "succeeded", f"{run.error_category}: {run.error_message}"

    from pycaret.classification import ClassificationExperiment

    bare = ClassificationExperiment()
    bare.setup(
        breast_cancer_frame(),
        target="target",
        session_id=SESSION_ID,
        verbose=False,
        html=False,
        system_log=False,
    )
    bare.compare_models(include=FAST_MODELS, fold=3, verbose=False)
    expected = bare.pull()

    studio = {row["model_id"]: row for row in run.leaderboard}
    assert [row["model_id"] for row in run.leaderboard] == list(expected.index)
    metrics = [c for c in expected.columns if c not in ("Model", "TT (Sec)")]
    assert "Accuracy" in metrics and "AUC" in metrics
    for model_id, row in expected.iterrows():
        assert studio[model_id]["Model"] == row["Model"]
        for metric in metrics:
            assert studio[model_id][metric] == pytest.approx(float(row[metric]), abs=5e-5), (
                model_id,
                metric,
            )


def test_an_unknown_model_fails_as_config_naming_valid_ids(celery_worker, alice, experiment):
    run = run_submit(
        experiment=experiment, plan={"kind": "create", "model_id": "zzzz_not_a_model"}, user=alice
    )
    run = wait_until_finished(run, worker=celery_worker)
    assert (run.status, run.error_category) == ("failed", "CONFIG")
    assert "zzzz_not_a_model" in run.error_message
    assert re.search(r"\blr\b", run.error_message) and re.search(r"\brf\b", run.error_message)
    assert run.events.filter(level="error").exists()
    assert run.events.filter(message="setup done").exists()  # events up to the failure stay


@pytest.mark.parametrize(
    "target_values",
    [pytest.param([1] * 60, id="single-class"), pytest.param([np.nan] * 60, id="all-nan")],
)
def test_a_target_that_cannot_be_learned_fails_as_data(celery_worker, alice, target_values):
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60), "y": target_values})
    dataset = make_dataset(make_project(alice), frame)
    # The experiment service refuses such a target up front; the runner must refuse it too.
    experiment = Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="bad", task="classification", target="y"
    )
    run = run_submit(experiment=experiment, plan={"kind": "create", "model_id": "lr"}, user=alice)
    run = wait_until_finished(run, worker=celery_worker)
    assert (run.status, run.error_category) == ("failed", "DATA"), run.error_message
    assert run.error_message


def test_cancel_while_running_gives_cancelled(celery_worker, alice, experiment):
    plan = {"kind": "compare", "include": SLOW_MODELS, "fold": 3}
    run = run_submit(experiment=experiment, plan=plan, user=alice)
    wait_until_busy(run, worker=celery_worker)

    run_cancel(run=run, user=alice)
    run = wait_until_finished(run, worker=celery_worker, timeout=30)
    assert run.status == "cancelled"
    assert run.events.filter(message__startswith="cancelled").exists()
    assert not run.leaderboard and not run.artifact_path


def test_a_message_delivered_twice_runs_once(celery_worker, alice, experiment):
    run = run_submit(experiment=experiment, plan={"kind": "setup"}, user=alice)
    duplicate = run_execute_task.apply_async(args=[run.pk])  # as if the broker redelivered it
    run = wait_until_finished(run, worker=celery_worker)
    wait_for(
        lambda: f"Task studio.run_execute[{duplicate.id}] succeeded" in celery_worker.log(),
        timeout=60,
        what="the duplicate message to be handled",
        worker=celery_worker,
    )
    assert run.status == "succeeded"
    assert run.events.filter(message="setup started").count() == 1
    first_start = run.started_at
    # And once more, in this process, for good measure: the claim refuses it.
    assert run_execute_task.apply(args=[run.pk]).get() == "skipped"
    run.refresh_from_db()
    assert run.started_at == first_start and run.events.filter(message="setup started").count() == 1


def test_broker_unreachable_keeps_the_run_and_redispatch_sends_it(
    celery_worker, alice, experiment, client
):
    with broker_unreachable():
        run = run_submit(experiment=experiment, plan={"kind": "setup"}, user=alice)
        assert runs_redispatch() == 0
    assert (run.status, run.dispatched_at) == ("queued", None)
    assert "could not be reached" in run.dispatch_error

    client.force_login(alice)
    body = client.get(f"/api/v1/runs/{run.pk}").json()
    assert (body["status"], body["dispatched"]) == ("queued", False)
    assert body["status_detail"].startswith("Waiting for the queue")
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "waiting for the queue" in page.lower()

    assert runs_redispatch() == 1
    run = wait_until_finished(run, worker=celery_worker)
    assert run.status == "succeeded" and run.dispatch_error == ""


def test_kill_9_of_the_pool_child_fails_the_run_with_the_reason(alice, experiment):
    with own_worker("kill-child") as worker:
        plan = {"kind": "compare", "include": SLOW_MODELS, "fold": 3}
        run = run_submit(experiment=experiment, plan=plan, user=alice)
        wait_until_busy(run, worker=worker)
        children = worker.pool_child_pids()
        assert run.worker_pid in children
        os.kill(run.worker_pid, signal.SIGKILL)
        run = wait_until_finished(run, worker=worker, timeout=30)
    assert (run.status, run.error_category, run.error_type) == ("failed", "ENGINE", "WorkerLost")
    assert run.error_message.startswith("worker lost") and "SIGKILL" in run.error_message


def test_a_whole_worker_killed_is_reaped(alice, experiment, settings):
    with own_worker("kill-all") as worker:
        plan = {"kind": "compare", "include": SLOW_MODELS, "fold": 3}
        run = run_submit(experiment=experiment, plan=plan, user=alice)
        wait_until_busy(run, worker=worker)
        os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait(timeout=10)

    settings.STUDIO_REAPER_STALE_S = 3
    run.refresh_from_db()
    assert run.status == "running"  # nobody is left to report anything
    last_sign_of_life = run.heartbeat_at or run.started_at
    wait_for(
        lambda: (timezone.now() - last_sign_of_life).total_seconds() > 4,
        timeout=10,
        what="the heartbeat to go stale",
    )
    assert runs_reap() == 1
    run.refresh_from_db()
    assert (run.status, run.error_category) == ("failed", "ENGINE")
    assert run.error_message.startswith("worker lost")


def test_cancel_ends_a_long_step_and_the_worker_carries_on(celery_worker, alice, experiment):
    # One long step (a tune) has no step boundary to stop at: the pool process ends itself.
    plan = {"kind": "tune", "model_id": "rf", "n_iter": 60}
    run = run_submit(experiment=experiment, plan=plan, user=alice)
    wait_for(
        lambda: run.events.filter(message__startswith="model created").exists(),
        timeout=90,
        what="the tuning step to start",
        worker=celery_worker,
    )
    run_cancel(run=run, user=alice)
    run = wait_until_finished(run, worker=celery_worker, timeout=30)
    assert run.status == "cancelled"
    assert run.events.filter(message="cancelled: the job was stopped").exists()

    after = run_submit(experiment=experiment, plan={"kind": "setup"}, user=alice)
    after = wait_until_finished(after, worker=celery_worker)
    assert after.status == "succeeded"
