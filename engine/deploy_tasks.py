"""Celery tasks for deployments: batch CSV scoring, and trimming the input reservoir."""

from celery import shared_task

BATCH_SOFT_TIME_LIMIT = 30 * 60


@shared_task(
    name="studio.batch_predict",
    acks_late=True,
    soft_time_limit=BATCH_SOFT_TIME_LIMIT,
    time_limit=BATCH_SOFT_TIME_LIMIT + 60,
)
def batch_predict_task(batch_id: int) -> str:
    """Score one uploaded CSV; a redelivered message finds the batch claimed and does nothing."""
    from engine.services.deployments import batch_execute

    return batch_execute(batch_id=batch_id)


@shared_task(name="studio.samples_trim", time_limit=300, soft_time_limit=240)
def samples_trim_task() -> int:
    """Keep only the newest input samples of each deployment (beat)."""
    from engine.services.deployments import samples_trim

    return samples_trim()
