"""Celery tasks of the engine. Tasks take ids, import their service inside, and call it."""

from celery import shared_task


@shared_task(name="studio.ping", time_limit=30, soft_time_limit=20)
def studio_ping_task(nonce: str) -> str:
    """A no-op that leaves a trace, to prove a worker really runs jobs."""
    from accounts.services import audit_record

    audit_record(action="worker.ping", metadata={"nonce": nonce})
    return nonce
