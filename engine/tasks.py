"""Celery tasks of the engine. Tasks take ids, import their service inside, and call it."""

from celery import shared_task
from django.conf import settings

BATCH_SOFT_TIME_LIMIT = 30 * 60


@shared_task(name="studio.ping", time_limit=30, soft_time_limit=20)
def studio_ping_task(nonce: str) -> str:
    """A no-op that leaves a trace, to prove a worker really runs jobs."""
    from accounts.services import audit_record

    audit_record(action="worker.ping", metadata={"nonce": nonce})
    return nonce


def _in_prefork_child() -> bool:
    from billiard.process import current_process

    return current_process().name.startswith("ForkPoolWorker")


@shared_task(
    bind=True,
    name="studio.run_execute",
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_execute_task(self, run_id: int) -> str:
    """Claim and execute one run. A redelivered message finds the run claimed and does nothing."""
    from engine.services.execution import run_execute

    # Only a prefork pool child may end itself to honour a cancel; the pool replaces it.
    hard_stop = not self.request.is_eager and _in_prefork_child()
    return run_execute(
        run_id=run_id,
        celery_task_id=self.request.id or "",
        hard_stop=hard_stop,
        worker=self.request.hostname or "",
    )


@shared_task(name="studio.runs_reap", time_limit=120, soft_time_limit=100)
def runs_reap_task() -> int:
    """Fail running runs whose heartbeat went stale (beat, every 30 s)."""
    from engine.services.runs import runs_reap

    return runs_reap()


@shared_task(name="studio.runs_redispatch", time_limit=120, soft_time_limit=100)
def runs_redispatch_task() -> int:
    """Send queued runs that never reached the broker (beat, every 30 s)."""
    from engine.services.runs import runs_redispatch

    return runs_redispatch()


@shared_task(
    name="studio.batch_predict",
    acks_late=True,
    soft_time_limit=BATCH_SOFT_TIME_LIMIT,
    time_limit=BATCH_SOFT_TIME_LIMIT + 60,
)
def batch_predict_task(batch_id: int) -> str:
    """Score one uploaded CSV; a redelivered message finds the batch claimed and does nothing."""
    from engine.services.batches import batch_execute

    return batch_execute(batch_id=batch_id)


@shared_task(name="studio.traffic_rollup", time_limit=600, soft_time_limit=540)
def traffic_rollup_task() -> int:
    """Roll the prediction log up into hourly summaries for the deployment pages (beat)."""
    from engine.services.traffic_rollup import traffic_rollup

    return traffic_rollup()


@shared_task(name="studio.samples_trim", time_limit=300, soft_time_limit=240)
def samples_trim_task() -> int:
    """Keep only the newest input samples of each deployment (beat)."""
    from engine.services.prediction_log import samples_trim

    return samples_trim()
