"""Executing a run in the worker: claim it, run its plan with a live event sink, heartbeat and
watch for a cancel beside it, and record the outcome.

Every write is conditional on the run still `running` and not asked to stop, so a cancel,
the task_failure handler or the reaper that got there first wins.

The runner works in a local temporary folder of this worker's own (PyCaret writes files); its
pipeline and plots are saved to the storage (engine.storage) before the success is recorded,
so any host can serve them.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Max
from django.utils import timezone

from engine import storage
from engine.models import ErrorCategory, Run, RunEvent, RunStatus
from engine.services.runs import run_event_append, run_fail, run_mark_cancelled

logger = logging.getLogger(__name__)

# How often the running job looks at its Run row for a cancel request.
CANCEL_POLL_S = 1.0
# After a cancel is seen, how long the job may take to stop at its next step before the pool
# child ends itself.
CANCEL_GRACE_S = 3.0


class RunEventSink:
    """The runner's EventSink: each event becomes a RunEvent, progress goes on the Run row."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.seq = RunEvent.objects.filter(run_id=run_id).aggregate(last=Max("seq"))["last"] or 0
        self.stop_requested = threading.Event()
        self._lock = threading.Lock()
        self._last_progress: tuple[int, int] | None = None

    def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        with self._lock:
            self.seq = run_event_append(
                run_id=self.run_id, level=level, message=message, data=data, seq=self.seq + 1
            )

    def progress(self, done: int, total: int) -> None:
        if (done, total) == self._last_progress:
            return
        self._last_progress = (done, total)
        Run.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
            progress_done=done, progress_total=total, heartbeat_at=timezone.now()
        )

    def is_cancelled(self) -> bool:
        return self.stop_requested.is_set()


class RunWatcher:
    """Beside the job, in a thread: heartbeats every STUDIO_HEARTBEAT_S and watches for a cancel.

    On a cancel it asks the runner to stop at its next step. If the job is still busy after
    CANCEL_GRACE_S and `hard_stop` is set (a prefork pool child), it records the run as
    cancelled and ends the process; the pool starts a fresh child.
    """

    def __init__(self, *, run_id: int, sink: RunEventSink, hard_stop: bool) -> None:
        self.run_id = run_id
        self.sink = sink
        self.hard_stop = hard_stop
        self.done = threading.Event()
        self.interval = max(1, int(settings.STUDIO_HEARTBEAT_S))
        self._thread = threading.Thread(
            target=self._main, name=f"run-{run_id}-watcher", daemon=True
        )
        self._owner_pid = os.getpid()
        self.work_dir: str | None = None  # the job's local folder, removed on a hard stop

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.done.set()
        self._thread.join(timeout=5)

    def _main(self) -> None:
        try:
            self._watch()
        except Exception:
            logger.exception("run %s: the watcher stopped", self.run_id)
        finally:
            connections.close_all()  # this thread's own connections

    def _watch(self) -> None:
        last_beat = time.monotonic()
        while not self.done.wait(CANCEL_POLL_S):
            row = Run.objects.filter(pk=self.run_id).values("status", "cancel_requested").first()
            if row is None or row["cancel_requested"] or row["status"] != RunStatus.RUNNING:
                self._halt_run()
                return
            if time.monotonic() - last_beat >= self.interval:
                Run.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
                last_beat = time.monotonic()

    def _halt_run(self) -> None:
        self.sink.stop_requested.set()
        if self.done.wait(CANCEL_GRACE_S) or not self.hard_stop:
            return
        if os.getpid() != self._owner_pid:  # never in a process forked from the job's
            return
        # One commit: whoever sees the run cancelled also sees why (a pool process running at
        # a lower priority, STUDIO_WORKER_NICE, may wait a while between two statements).
        with transaction.atomic():
            if run_mark_cancelled(run_id=self.run_id):
                self.sink.event("warning", "cancelled: the job was stopped")
        if self.work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        storage.delete_prefixes([storage.run_prefix(self.run_id)])
        logger.warning("run %s cancelled: ending pool process %s", self.run_id, os.getpid())
        from engine.runner.processes import end_joblib_workers

        end_joblib_workers()
        connections.close_all()
        os._exit(0)


def run_execute(
    *, run_id: int, celery_task_id: str = "", hard_stop: bool = False, worker: str = ""
) -> str:
    """Claim a queued run and execute its plan. Returns the final status, or "skipped" when
    the run was not queued any more (a redelivered message, or a cancelled run). `worker` is
    the claiming Celery worker's hostname, recorded on the run."""
    now = timezone.now()
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker_pid=os.getpid(),
        worker=worker[:255],
        celery_task_id=celery_task_id or F("celery_task_id"),
    )
    if claimed != 1:
        logger.info("run %s was not queued any more: nothing to do", run_id)
        return "skipped"
    run = Run.objects.select_related("experiment__dataset").get(pk=run_id)
    sink = RunEventSink(run_id)
    watcher = RunWatcher(run_id=run_id, sink=sink, hard_stop=hard_stop)
    watcher.start()
    try:
        with storage.work_dir(prefix=f"run-{run_id}-") as work_dir:
            watcher.work_dir = str(work_dir)
            return _execute(run, sink, work_dir)
    finally:
        watcher.stop()


def _execute(run: Run, sink: RunEventSink, work_dir) -> str:
    from engine.ingest import read_parquet_frame
    from engine.runner import RunCancelled, execute_plan
    from engine.selectors.datasets import dataset_parquet_file

    experiment, dataset = run.experiment, run.experiment.dataset
    prefix = storage.run_prefix(run.pk)
    try:
        with dataset_parquet_file(dataset) as parquet:
            frame = read_parquet_frame(parquet)
        result = execute_plan(
            plan=run.plan,
            data=frame,
            task=experiment.task,
            target=experiment.target or None,
            setup_options=experiment.setup_options,
            work_dir=work_dir,
            sink=sink,
            dataset_sha256=dataset.sha256,
        )
        if not sink.is_cancelled():
            store_run_files(run.pk, work_dir, result, move=True)
    except RunCancelled:
        storage.delete_prefixes([prefix])
        if run_mark_cancelled(run_id=run.pk):
            sink.event("warning", "cancelled: the job stopped at a step boundary")
        return RunStatus.CANCELLED
    except Exception as exc:  # RunFailure from the runner, or anything around it
        storage.delete_prefixes([prefix])
        return _record_failure(run, sink, exc)
    if sink.is_cancelled() or not _record_success(run, result):
        storage.delete_prefixes([prefix])
        run_mark_cancelled(run_id=run.pk)
        # The row is gone when its project was deleted while the run was running.
        status = Run.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        return status or RunStatus.CANCELLED
    return RunStatus.SUCCEEDED


def store_run_files(run_id: int, work_dir, result, *, move: bool = False) -> None:
    """Save the files the runner reported (its pipeline and plots) from its local folder to
    the storage, under the run's own prefix (`move`: the local files may be moved)."""
    filenames = [p["filename"] for p in result.plots]
    if result.artifact_filename:
        filenames.append(result.artifact_filename)
    for filename in filenames:
        storage.save_file(storage.run_file(run_id, filename), Path(work_dir) / filename, move=move)


def _record_failure(run: Run, sink: RunEventSink, exc: BaseException) -> str:
    import traceback as tb

    from celery.exceptions import SoftTimeLimitExceeded

    from engine.runner import RunFailure

    if isinstance(exc, RunFailure):
        category, error_type, message, trace = exc.category, exc.type, exc.message, exc.traceback
    else:  # raised outside the runner, which already reported its own failures
        category, error_type = ErrorCategory.ENGINE, type(exc).__name__
        message = str(exc) or error_type
        trace = "".join(tb.format_exception(exc))
        sink.event("error", f"ENGINE: {message}", {"category": category, "type": error_type})
    if error_type == SoftTimeLimitExceeded.__name__:
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        category, message = ErrorCategory.ENGINE, f"time limit: the run took longer than {limit} s"
    if sink.is_cancelled() and run_mark_cancelled(run_id=run.pk):
        return RunStatus.CANCELLED
    run_fail(
        run_id=run.pk, category=category, error_type=error_type, message=message, traceback=trace
    )
    return RunStatus.FAILED


def _relative(run_id: int, filename: str | None) -> str:
    return storage.run_file(run_id, filename) if filename else ""


def _record_success(run: Run, result) -> bool:
    plots = [
        {"name": str(p["name"]), "filename": os.path.basename(str(p["filename"]))}
        for p in result.plots
    ]
    changed = Run.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, cancel_requested=False
    ).update(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        model_id=result.model_id or "",
        model_name=result.model_name or "",
        leaderboard=result.leaderboard,
        leaderboard_sort=result.leaderboard_sort or "",
        metrics=result.holdout_metrics,
        plots=plots,
        preprocessing=result.preprocessing,
        feature_schema=result.feature_schema,
        model_params=result.model_params,
        target_classes=result.target_classes,
        summary=result.summary,
        environment=result.environment,
        outcome=getattr(result, "outcome", None) or {},
        artifact_path=_relative(run.pk, result.artifact_filename),
        artifact_sha256=result.artifact_sha256 or "",
        progress_done=F("progress_total"),
    )
    return bool(changed)
