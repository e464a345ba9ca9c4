"""A real Celery worker process runs a job end to end through the configured broker."""

import time
import uuid

import pytest

from accounts.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_real_worker_runs_a_trivial_task(celery_worker):
    from engine.tasks import studio_ping_task

    nonce = uuid.uuid4().hex
    studio_ping_task.delay(nonce)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if AuditEvent.objects.filter(action="worker.ping", metadata__nonce=nonce).exists():
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the worker never ran the task:\n{celery_worker.log()[-3000:]}")
    assert "Task studio.ping[" in celery_worker.log()
