"""Many hosts, proven on one machine: two Celery workers with their own hostnames and their own
local temp folders, sharing only PostgreSQL, Redis and the artifact storage, take the runs of
one queue between them; killing one mid-run fails its run as "worker lost" and the other
carries on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable

import pytest
from django.utils import timezone

from engine.models import Run
from engine.services.runs import run_submit, runs_reap
from engine.tests.factories import (
    breast_cancer_frame,
    make_dataset,
    make_experiment,
    make_project,
)
from pycaret_studio.celery import app
from pycaret_studio.tests.support import TEST_ROOT, start_worker, stop_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

TERMINAL = ("succeeded", "failed", "cancelled")
SMALL_COMPARE = {"kind": "compare", "include": ["lr", "nb"], "fold": 2}
# Long enough that the run is still busy when its worker is killed.
LONG_COMPARE = {
    "kind": "compare",
    "include": ["lr", "nb", "knn", "rf", "et", "ada", "gbc"],
    "fold": 3,
}
HEARTBEAT_S = 1
STALE_S = 5


@pytest.fixture
def shared_storage_env(s3_storage, s3_worker_env, tmp_path, settings) -> dict:
    """What both workers add to their environment to reach the shared artifact storage: the S3
    endpoint (moto in server mode), as this test process uses it too. Local media folders are
    not shared: this process's MEDIA_ROOT is an empty folder that must stay empty."""
    settings.MEDIA_ROOT = tmp_path / "media-of-the-web-host"
    return s3_worker_env


def files_under(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def wait_for(check: Callable[[], object], *, timeout: float, what: str, workers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    logs = "".join(f"\n--- {w.log_path.name}:\n{w.log()[-3000:]}" for w in workers)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{logs}")


def finished(runs: list[Run]) -> bool:
    for run in runs:
        run.refresh_from_db()
    return all(run.status in TERMINAL for run in runs)


@contextlib.contextmanager
def two_workers(tmp_path, storage_env: dict):
    """Two workers on a queue of this test's own, each with its own --hostname and TMPDIR."""
    tag = uuid.uuid4().hex[:6]
    queue = f"studio-test-two-{tag}"
    started = []
    try:
        for name in ("alpha", "beta"):
            tmpdir = tmp_path / f"tmp-{name}"
            tmpdir.mkdir()
            env = {
                **storage_env,
                "TMPDIR": str(tmpdir),
                "MEDIA_ROOT": str(tmp_path / f"media-{name}"),
                "STUDIO_HEARTBEAT_S": str(HEARTBEAT_S),
            }
            hostname = f"{name}-{tag}@{socket.gethostname()}"
            worker = start_worker(
                queue=queue,
                log_path=TEST_ROOT / f"worker-two-{name}.log",
                extra_env=env,
                hostname=hostname,
            )
            worker.hostname = hostname
            started.append(worker)
        previous = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        try:
            yield started
        finally:
            app.conf.task_default_queue = previous
    finally:
        for worker in started:
            stop_worker(worker)


def test_two_workers_share_the_runs_and_one_lost_leaves_the_other_working(
    alice, tmp_path, shared_storage_env, s3_storage
):
    project = make_project(alice, name="Two hosts")
    dataset = make_dataset(project, breast_cancer_frame(), name="breast_cancer.csv")
    experiment = make_experiment(dataset, target="target", setup={"session_id": 7})

    with two_workers(tmp_path, shared_storage_env) as (alpha, beta):
        hostnames = {alpha.hostname, beta.hostname}
        runs = [run_submit(experiment=experiment, plan=SMALL_COMPARE, user=alice) for _ in range(4)]
        wait_for(lambda: finished(runs), timeout=150, what="4 runs", workers=(alpha, beta))
        for run in runs:
            assert run.status == "succeeded", f"{run.error_category}: {run.error_message}"
            assert len(run.leaderboard) == 2 and run.artifact_sha256
        ran_on = [run.worker for run in runs]
        assert set(ran_on) == hostnames, ran_on  # spread over both, and named by each

        # Kill one whole worker (its main process and pool child) while it runs a job.
        doomed_run = run_submit(experiment=experiment, plan=LONG_COMPARE, user=alice)

        def busy():
            doomed_run.refresh_from_db()
            assert doomed_run.status in ("queued", "running"), doomed_run.error_message
            return doomed_run.events.filter(message__startswith="compare:").exists()

        wait_for(busy, timeout=90, what="the long run to start comparing", workers=(alpha, beta))
        victim, survivor = (alpha, beta) if doomed_run.worker == alpha.hostname else (beta, alpha)
        assert doomed_run.worker == victim.hostname
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(timeout=10)

        # Nobody is left to report on the run: the reaper finds its heartbeat stale.
        doomed_run.refresh_from_db()
        last_beat = doomed_run.heartbeat_at
        wait_for(
            lambda: (timezone.now() - last_beat).total_seconds() > STALE_S + 1,
            timeout=STALE_S + 10,
            what="the heartbeat to go stale",
        )
        assert runs_reap(stale_after_s=STALE_S) == 1
        doomed_run.refresh_from_db()
        assert (doomed_run.status, doomed_run.error_type) == ("failed", "WorkerLost")
        assert doomed_run.error_message.startswith("worker lost")
        assert f"({victim.hostname})" in doomed_run.error_message
        assert doomed_run.worker == victim.hostname

        # The other worker carries on.
        after = run_submit(experiment=experiment, plan=SMALL_COMPARE, user=alice)
        wait_for(
            lambda: finished([after]), timeout=90, what="a run after the loss", workers=[survivor]
        )
        assert after.status == "succeeded", f"{after.error_category}: {after.error_message}"
        assert after.worker == survivor.hostname

    # Every artifact went through the shared bucket; no host wrote a local media file.
    assert s3_storage.object_keys(f"runs/{after.pk}/")
    for media in ("media-of-the-web-host", "media-alpha", "media-beta"):
        assert files_under(tmp_path / media) == [], media
