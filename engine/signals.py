"""Celery signal handlers: runs whose worker process died, and the worker's pool processes
set up for PyCaret (preloaded, and allowed to use joblib's process pool like a plain process).

Connected from EngineConfig.ready(). Nothing here imports PyCaret unless a worker starts.
"""

import logging
import os
import time

from celery.signals import (
    task_failure,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)

logger = logging.getLogger(__name__)

RUN_TASK = "studio.run_execute"


def _lost_reason(exception: BaseException) -> tuple[str, str]:
    from billiard.exceptions import TimeLimitExceeded, WorkerLostError

    if isinstance(exception, WorkerLostError):
        detail = str(exception).split(" Job:", 1)[0].rstrip(".")
        return (
            "WorkerLost",
            f"worker lost: the process running this job died ({detail}). It may have run out "
            "of memory or been killed. Submit the run again, on less data if memory is short.",
        )
    if isinstance(exception, TimeLimitExceeded):
        return (
            "TimeLimitExceeded",
            f"time limit: the job ran past its hard time limit ({exception} s) and was stopped.",
        )
    return type(exception).__name__, f"the job failed outside the runner: {exception}"


@task_failure.connect
def run_task_failed(sender=None, exception=None, args=None, kwargs=None, **_):
    """In the worker's main process: a pool child died (SIGKILL, OOM) or hit the hard limit."""
    if getattr(sender, "name", None) != RUN_TASK or exception is None:
        return
    run_id = (args or [None])[0] if args else (kwargs or {}).get("run_id")
    if run_id is None:
        return
    from engine.services.runs import run_fail_lost

    error_type, message = _lost_reason(exception)
    try:
        if run_fail_lost(run_id=int(run_id), error_type=error_type, message=message):
            logger.error("run %s failed: %s", run_id, message)
    except Exception:
        logger.exception("could not record the failure of run %s", run_id)


@worker_init.connect
def preload_pycaret(**_):
    """Import PyCaret once in the worker's main process, before the pool forks.

    Every pool child inherits the loaded modules, so no run pays the import, and a child that
    replaces a lost one starts at once. (worker_process_init would be per child, and is limited
    to worker_proc_alive_timeout, 4 s, which a cold PyCaret import can exceed.)
    """
    if os.environ.get("STUDIO_WORKER_PRELOAD", "1").lower() in {"0", "false", "no", "off"}:
        return
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import pycaret.anomaly  # noqa: F401
        import pycaret.classification  # noqa: F401
        import pycaret.clustering  # noqa: F401
        import pycaret.regression  # noqa: F401
        import pycaret.time_series  # noqa: F401
    except Exception:
        logger.exception("preloading PyCaret failed; each run will import it")
        return
    logger.info("PyCaret preloaded in %.1f s", time.perf_counter() - started)


@worker_process_init.connect
def let_joblib_use_processes(**_):
    """A pool child is daemonic, and joblib then silently runs every `n_jobs=-1` loop (PyCaret's
    cross-validation folds) on one core. Clearing the flag in the child gives a run the same
    parallelism as bare PyCaret; the parent still owns and reaps the child as before."""
    import multiprocessing

    from billiard import process as billiard_process

    for current in (multiprocessing.current_process(), billiard_process.current_process()):
        current._config["daemon"] = False


@worker_process_init.connect
def lower_worker_priority(**_):
    """Training yields the CPU to serving: each pool process (and every joblib process it
    starts, which inherits it) runs at niceness STUDIO_WORKER_NICE (default 10) at least, and
    so does the worker's session where Linux schedules sessions first (autogroup)."""
    from engine.runner.processes import lower_priority, lower_session_priority, worker_nice

    try:
        niceness = lower_priority(worker_nice())
    except (OSError, ValueError):
        logger.exception("could not lower the worker's CPU priority")
        return
    session = lower_session_priority(niceness)
    logger.info(
        "pool process %s runs at niceness %s (its session's autogroup: %s)",
        os.getpid(),
        niceness,
        "not used" if session is None else f"niceness {session}",
    )


@worker_process_shutdown.connect
def stop_joblib_workers(**_):
    from engine.runner.processes import end_joblib_workers

    end_joblib_workers()


# The predict path's deployment cache (engine.selectors.deployments.deployment_get_cached):
# every change to a deployment, or to a pipeline one serves, drops its entry in this process at
# once, and again when the transaction commits (a request in between may have cached the old
# row). Other processes see the change within STUDIO_SERVING_CACHE_S.


def _forget_deployments(*slugs: str) -> None:
    from engine.selectors.deployments import deployment_cache_key
    from pycaret_studio.serving_cache import serving_cache_forget

    serving_cache_forget(*(deployment_cache_key(slug) for slug in slugs))


def deployment_cache_forget_one(sender, instance, **kwargs):
    _forget_deployments(instance.slug)


def deployment_cache_forget_pipeline(sender, instance, **kwargs):
    from engine.models import Deployment

    _forget_deployments(
        *Deployment.objects.filter(pipeline=instance).values_list("slug", flat=True)
    )


def connect_model_receivers() -> None:
    from django.db.models.signals import post_delete, post_save, pre_delete

    from engine.models import Deployment, Pipeline

    post_save.connect(deployment_cache_forget_one, sender=Deployment, dispatch_uid="dep-saved")
    post_delete.connect(deployment_cache_forget_one, sender=Deployment, dispatch_uid="dep-gone")
    post_save.connect(deployment_cache_forget_pipeline, sender=Pipeline, dispatch_uid="pipe-saved")
    pre_delete.connect(deployment_cache_forget_pipeline, sender=Pipeline, dispatch_uid="pipe-gone")
