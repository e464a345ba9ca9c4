"""Process plumbing around PyCaret's parallel work: joblib's worker processes, the CPU share
a run may take, and the priority of the processes that train."""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


def end_joblib_workers() -> None:
    """Stop this process's joblib (loky) worker processes, so none outlive it."""
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:
        return
    executor = reusable_executor._executor
    if executor is None:
        return
    try:
        executor.shutdown(wait=True, kill_workers=True)
    except Exception:
        logger.exception("could not stop joblib's worker processes")


# Training and serving share the machine's cores. Two settings keep predictions fast while runs
# train (bench/serving_under_load.py measures it):
# - STUDIO_WORKER_NICE (default 10): each Celery pool process, and so every joblib process it
#   starts, runs at this niceness at least, so the web processes (niceness 0) get the CPU first
#   when both want it, and training takes every idle cycle otherwise;
# - STUDIO_RUN_N_JOBS (unset: PyCaret's default, -1 = every core): the n_jobs a run's setup()
#   gets, a hard cap on the cores one run's cross-validation uses.
DEFAULT_WORKER_NICE = 10


def worker_nice() -> int:
    value = os.environ.get("STUDIO_WORKER_NICE", "").strip()
    return int(value) if value else DEFAULT_WORKER_NICE


def lower_priority(niceness: int) -> int:
    """Raise this process's niceness to at least `niceness` (never lower it: that needs root);
    return its niceness now."""
    current = os.nice(0)
    if niceness > current:
        current = os.nice(niceness - current)
    return current


def autogroup_path(pid: int | str = "self") -> str:
    return f"/proc/{pid}/autogroup"


def lower_session_priority(niceness: int) -> int | None:
    """On Linux with autogroup scheduling (`kernel.sched_autogroup_enabled`), the scheduler
    first shares the CPU between sessions, and a process's niceness only ranks it within its
    own session: a worker started in a session of its own (a service, a container, a
    terminal) would still get as much CPU as the web server's session, whatever its processes'
    niceness. So when this process's session leader is its parent (the worker's main process),
    the session holds only the worker and what it starts, and its autogroup gets `niceness`
    too. A session shared with anything else (the web server started from the same shell) is
    left alone: there, the processes' own niceness already ranks them. Returns the autogroup's
    niceness, or None where there is no autogroup or it was left alone."""
    if os.getsid(0) != os.getppid():
        return None
    current = autogroup_nice()
    if current is None:
        return None
    if niceness > current:
        try:
            with open(autogroup_path(), "w") as handle:
                handle.write(str(niceness))
        except OSError:
            # Unprivileged changes are limited to one a second: another pool process of the
            # same session may just have made this one.
            pass
        current = autogroup_nice()
    return current


def autogroup_nice(pid: int | str = "self") -> int | None:
    """The niceness of the process's autogroup ("/autogroup-123 nice 0"), or None where it has
    none: no autogroup support, or the process is in the root autogroup (a session never
    started with setsid since boot, such as a container's or a CI runner's first session),
    where the file exists but reads empty."""
    try:
        with open(autogroup_path(pid)) as handle:
            return int(handle.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def run_n_jobs() -> int | None:
    """The n_jobs for a run's setup(), or None for PyCaret's default."""
    value = os.environ.get("STUDIO_RUN_N_JOBS", "").strip()
    try:
        return int(value) if value else None
    except ValueError:
        logger.warning(
            "STUDIO_RUN_N_JOBS=%r is not a whole number; PyCaret's default n_jobs applies", value
        )
        return None
