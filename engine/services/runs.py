"""Writes for runs: submit, dispatch, cancel and re-run; events, terminal states, reap and
redispatch. Executing a run in the worker is in `services/execution.py`.

The Run row is the only source of truth. It is written before anything is enqueued, claimed by a
conditional UPDATE in the worker, and every terminal write is conditional on `status=running`,
so whichever of the worker, the cancel, the task_failure handler or the reaper gets there first
wins and the others change nothing.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta
from typing import Any

import pydantic
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import quotas
from engine.capabilities import plan_problems
from engine.errors import Conflict, InvalidInput
from engine.models import ErrorCategory, Experiment, Run, RunEvent, RunStatus
from engine.plans import parse_plan

logger = logging.getLogger(__name__)

# A queued run nobody dispatched (the web process died between commit and publish) is picked up
# by the redispatch task after this long.
REDISPATCH_AFTER_S = 30


# Submit, dispatch, cancel, re-run.


def plan_errors(exc: pydantic.ValidationError) -> InvalidInput:
    """A bad plan, as the API's other body errors are reported: located under `plan`."""
    errors = [
        {"loc": ["body", "plan", *error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
    return InvalidInput(detail or "Invalid plan.", errors=errors)


def _plan_dict(plan: Any, task: str) -> dict[str, Any]:
    """Validate a plan (dict or Plan model) for `task` and return its normalised JSON form."""
    if isinstance(plan, pydantic.BaseModel):
        plan = plan.model_dump(mode="json")
    try:
        parsed = parse_plan(plan)
    except pydantic.ValidationError as exc:
        raise plan_errors(exc) from exc
    problems = plan_problems(parsed, task)
    if problems:
        errors = [{"loc": ["body", "plan", field], "msg": message} for field, message in problems]
        raise InvalidInput(
            " ".join(message for _, message in problems), code="not_applicable", errors=errors
        )
    return parsed.model_dump(mode="json", exclude_none=True)


def run_submit(
    *, experiment: Experiment, plan: Any, user: User | None, request=None, dispatch: bool = True
) -> Run:
    """Create a queued Run and send it to the workers once the transaction commits (unless
    `dispatch` is False: the caller runs it itself, and `runs_redispatch` sends it if not).

    Raises InvalidInput for a bad plan, PermissionDenied without the `train` permission, and a
    429 StudioError while the workspace has its quota of runs queued or running.
    If the broker cannot be reached the run stays queued, undispatched, with `dispatch_error`
    set; `runs_redispatch` sends it later.
    """
    workspace = experiment.project.workspace
    require(request, workspace, "train", user=user)
    plan_data = _plan_dict(plan, experiment.task)
    quotas.runs_active_check(workspace=workspace)
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
        if dispatch:
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
    asked to stop, and its job ends itself within a few seconds. A finished run: Conflict.
    """
    require(request, run.experiment.project.workspace, "train", user=user)
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now
    ):
        run_event_append(run_id=run.pk, level="warning", message="cancelled before it started")
    elif not Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(cancel_requested=True):
        run.refresh_from_db()
        raise Conflict(f"Run {run.pk} has already {run.status}; it cannot be cancelled.")
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


def run_mark_cancelled(*, run_id: int) -> bool:
    """Turn a running run `cancelled`; False if it is not running any more."""
    return bool(
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now()
        )
    )


def run_fail_lost(*, run_id: int, error_type: str, message: str) -> bool:
    """The worker lost the run (its process died, or a hard time limit): fail it if running."""
    if Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, cancel_requested=True).exists():
        changed = run_mark_cancelled(run_id=run_id)
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
    for run in stale.only("pk", "heartbeat_at", "started_at", "cancel_requested", "worker"):
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
            worker = f" ({run.worker})" if run.worker else ""
            message = (
                f"worker lost: no heartbeat for {age} s. The worker running this job{worker} "
                "stopped (killed, out of memory, or restarted). Submit the run again."
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
