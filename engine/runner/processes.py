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


def run_n_jobs() -> int | None:
    """The n_jobs for a run's setup(), or None for PyCaret's default."""
    value = os.environ.get("STUDIO_RUN_N_JOBS", "").strip()
    return int(value) if value else None
