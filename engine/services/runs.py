"""Writes for runs: submit, dispatch, cancel and re-run; execute in the worker; reap and redispatch.

The Run row is the only source of truth. It is written before anything is enqueued, claimed by a
conditional UPDATE in the worker, and every terminal write is conditional on `status=running`,
so whichever of the worker, the cancel, the task_failure handler or the reaper gets there first
wins and the others change nothing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import ROLE_PERMISSIONS, Membership, User
from accounts.services import audit_record
from engine.models import ErrorCategory, Experiment, Run, RunEvent, RunStatus
from engine.plans import parse_plan
from engine.run_selectors import run_media_dir

logger = logging.getLogger(__name__)

# How often the running job looks at its Run row for a cancel request.
CANCEL_POLL_S = 1.0
# After a cancel is seen, how long the job may take to stop at its next step before the pool
# child ends itself.
CANCEL_GRACE_S = 3.0
# A queued run nobody dispatched (the web process died between commit and publish) is picked up
# by the redispatch task after this long.
REDISPATCH_AFTER_S = 30


class RunConflict(Exception):
    """The run is in a state that does not allow the operation (409)."""


# Submit, dispatch, cancel, re-run.


def _plan_dict(plan: Any) -> dict[str, Any]:
    """Validate a plan (dict or Plan model) and return its normalised JSON form.

    Raises `pydantic.ValidationError` for a bad plan.
    """
    if isinstance(plan, pydantic.BaseModel):
        plan = plan.model_dump(mode="json")
    return parse_plan(plan).model_dump(mode="json", exclude_none=True)


def _require_train(*, request, user: User | None, workspace) -> None:
    if request is not None:
        from accounts.access import require

        require(request, workspace, "train")
        return
    role = Membership.objects.filter(user=user, workspace=workspace).values_list("role", flat=True)
    if not role or "train" not in ROLE_PERMISSIONS[role[0]]:
        raise PermissionDenied(f"This needs the 'train' permission in {workspace.name}.")


def run_submit(*, experiment: Experiment, plan: Any, user: User | None, request=None) -> Run:
    """Create a queued Run and send it to the workers once the transaction commits.

    Raises `pydantic.ValidationError` for a bad plan and `PermissionDenied` without the
    `train` permission. If the broker cannot be reached the run stays queued, undispatched,
    with `dispatch_error` set; `runs_redispatch` sends it later.
    """
    workspace = experiment.project.workspace
    _require_train(request=request, user=user, workspace=workspace)
    plan_data = _plan_dict(plan)
    with transaction.atomic():
        run = Run.objects.create(
            experiment=experiment, plan=plan_data, status=RunStatus.QUEUED, created_by=user
        )
        audit_record(
            action="run.submitted",
            request=request,
            actor=user,
            workspace=workspace,
            target=run,
            metadata={"experiment_id": experiment.pk, "plan_kind": plan_data["kind"]},
        )
        transaction.on_commit(lambda: run_dispatch(run_id=run.pk))
    run.refresh_from_db()
    return run


_CREDENTIALS = re.compile(r"(\w+://)[^@/\s]*@")


def run_dispatch(*, run_id: int) -> bool:
    """Publish the run's task. False (and `dispatch_error` set) when the broker is unreachable.

    Publishing retries only briefly (CELERY_TASK_PUBLISH_RETRY_POLICY), so a request never
    hangs on a dead broker.
    """
    from engine.tasks import run_execute_task

    task_id = str(uuid.uuid4())
    try:
        run_execute_task.apply_async(args=[run_id], task_id=task_id)
    except Exception as exc:
        reason = _CREDENTIALS.sub(r"\1***@", f"{type(exc).__name__}: {exc}")[:500]
        logger.warning("run %s not dispatched, the broker is unreachable: %s", run_id, reason)
        Run.objects.filter(pk=run_id, dispatched_at__isnull=True).update(
            dispatch_error=f"The job queue could not be reached ({reason})."
        )
        return False
    Run.objects.filter(pk=run_id).update(
        dispatched_at=timezone.now(), dispatch_error="", celery_task_id=task_id
    )
    return True


def runs_redispatch(*, older_than_s: int = REDISPATCH_AFTER_S) -> int:
    """Send queued runs that never reached the broker. Returns how many were sent."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    waiting = (
        Run.objects.filter(status=RunStatus.QUEUED, dispatched_at__isnull=True)
        .filter(Q(dispatch_error__gt="") | Q(queued_at__lt=cutoff))
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:200]
    )
    sent = 0
    for run_id in list(waiting):
        if not run_dispatch(run_id=run_id):
            break  # the broker is still down; the next beat tick tries again
        sent += 1
    return sent


def run_cancel(*, run: Run, user: User | None, request=None) -> Run:
    """Cancel a run. A queued run is cancelled at once and never starts; a running run is
    asked to stop, and its job ends itself within a few seconds. A finished run: RunConflict.
    """
    _require_train(request=request, user=user, workspace=run.experiment.project.workspace)
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now
    ):
        run_event_append(run_id=run.pk, level="warning", message="cancelled before it started")
    elif not Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(cancel_requested=True):
        run.refresh_from_db()
        raise RunConflict(f"Run {run.pk} has already {run.status}; it cannot be cancelled.")
    audit_record(
        action="run.cancelled",
        request=request,
        actor=user,
        workspace=run.experiment.project.workspace,
        target=run,
    )
    run.refresh_from_db()
    return run


def run_rerun(*, run: Run, user: User | None, request=None) -> Run:
    """Submit the same plan on the same experiment again."""
    return run_submit(experiment=run.experiment, plan=run.plan, user=user, request=request)


# Events and terminal states.


def run_event_append(
    *, run_id: int, level: str, message: str, data: dict | None = None, seq: int | None = None
) -> int:
    """Append one RunEvent and return its seq; takes the next free seq if `seq` is taken."""
    data = json.loads(json.dumps(data or {}, default=str))
    for _ in range(5):
        if seq is None:
            last = RunEvent.objects.filter(run_id=run_id).aggregate(last=Max("seq"))["last"]
            seq = (last or 0) + 1
        try:
            with transaction.atomic():
                RunEvent.objects.create(
                    run_id=run_id, seq=seq, level=level, message=message[:10_000], data=data
                )
            return seq
        except IntegrityError:
            seq = None
    raise RuntimeError(f"could not append an event to run {run_id}")


def run_fail(
    *, run_id: int, category: str, error_type: str, message: str, traceback: str = ""
) -> bool:
    """Turn a running run `failed`; False if it is not running any more."""
    changed = Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error_category=category,
        error_type=error_type[:200],
        error_message=message,
        error_traceback=traceback,
    )
    return bool(changed)


def _mark_cancelled(run_id: int) -> bool:
    return bool(
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now()
        )
    )


def run_fail_lost(*, run_id: int, error_type: str, message: str) -> bool:
    """The worker lost the run (its process died, or a hard time limit): fail it if running."""
    if Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, cancel_requested=True).exists():
        changed = _mark_cancelled(run_id)
    else:
        changed = run_fail(
            run_id=run_id, category=ErrorCategory.ENGINE, error_type=error_type, message=message
        )
    if changed:
        run_event_append(run_id=run_id, level="error", message=f"ENGINE: {message}")
    return changed


def runs_reap(*, stale_after_s: int | None = None) -> int:
    """Fail running runs whose heartbeat (or start, before any heartbeat) went stale."""
    stale_after = stale_after_s if stale_after_s is not None else settings.STUDIO_REAPER_STALE_S
    now = timezone.now()
    cutoff = now - timedelta(seconds=stale_after)
    stale = Run.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    reaped = 0
    for run in stale.only("pk", "heartbeat_at", "started_at", "cancel_requested"):
        last = run.heartbeat_at or run.started_at
        age = int((now - last).total_seconds())
        # Conditional on the heartbeat we read, so a job that just came back to life wins.
        still_stale = Run.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, heartbeat_at=run.heartbeat_at
        )
        if run.cancel_requested:
            changed = still_stale.update(status=RunStatus.CANCELLED, finished_at=now)
            message = "cancelled: the worker stopped without reporting back"
        else:
            message = (
                f"worker lost: no heartbeat for {age} s. The worker running this job stopped "
                "(killed, out of memory, or restarted). Submit the run again."
            )
            changed = still_stale.update(
                status=RunStatus.FAILED,
                finished_at=now,
                error_category=ErrorCategory.ENGINE,
                error_type="WorkerLost",
                error_message=message,
            )
        if changed:
            reaped += 1
            level = "warning" if run.cancel_requested else "error"
            run_event_append(run_id=run.pk, level=level, message=message)
            logger.warning("reaped run %s: %s", run.pk, message)
    return reaped


# Execution, in the worker.


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
        if _mark_cancelled(self.run_id):
            self.sink.event("warning", "cancelled: the job was stopped")
        shutil.rmtree(run_media_dir(self.run_id), ignore_errors=True)
        logger.warning("run %s cancelled: ending pool process %s", self.run_id, os.getpid())
        from engine.signals import end_joblib_workers

        end_joblib_workers()
        connections.close_all()
        os._exit(0)


def run_execute(*, run_id: int, celery_task_id: str = "", hard_stop: bool = False) -> str:
    """Claim a queued run and execute its plan. Returns the final status, or "skipped" when
    the run was not queued any more (a redelivered message, or a cancelled run)."""
    now = timezone.now()
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker_pid=os.getpid(),
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
        return _execute(run, sink)
    finally:
        watcher.stop()


def _execute(run: Run, sink: RunEventSink) -> str:
    from engine.ingest import read_parquet_frame
    from engine.runner import RunCancelled, execute_plan
    from engine.selectors import dataset_parquet_path

    experiment, dataset = run.experiment, run.experiment.dataset
    work_dir = run_media_dir(run.pk)
    try:
        frame = read_parquet_frame(dataset_parquet_path(dataset))
        result = execute_plan(
            plan=run.plan,
            data=frame,
            task=experiment.task,
            target=experiment.target,
            setup_options=experiment.setup_options,
            work_dir=work_dir,
            sink=sink,
            dataset_sha256=dataset.sha256,
        )
    except RunCancelled:
        shutil.rmtree(work_dir, ignore_errors=True)
        if _mark_cancelled(run.pk):
            sink.event("warning", "cancelled: the job stopped at a step boundary")
        return RunStatus.CANCELLED
    except Exception as exc:  # RunFailure from the runner, or anything around it
        shutil.rmtree(work_dir, ignore_errors=True)
        return _record_failure(run, sink, exc)
    if sink.is_cancelled() or not _record_success(run, result):
        shutil.rmtree(work_dir, ignore_errors=True)
        _mark_cancelled(run.pk)
        return Run.objects.values_list("status", flat=True).get(pk=run.pk)
    return RunStatus.SUCCEEDED


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
    if sink.is_cancelled() and _mark_cancelled(run.pk):
        return RunStatus.CANCELLED
    run_fail(
        run_id=run.pk, category=category, error_type=error_type, message=message, traceback=trace
    )
    return RunStatus.FAILED


def _relative(run_id: int, filename: str | None) -> str:
    if not filename:
        return ""
    if os.path.basename(filename) != filename:
        raise ValueError(f"the runner returned a path, not a file name: {filename!r}")
    return f"runs/{run_id}/{filename}"


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
        environment=result.environment,
        artifact_path=_relative(run.pk, result.artifact_filename),
        artifact_sha256=result.artifact_sha256 or "",
        progress_done=F("progress_total"),
    )
    return bool(changed)
