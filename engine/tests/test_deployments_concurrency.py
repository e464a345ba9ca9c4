"""Concurrent activate, deactivate and rollback, in real transactions on the configured database:
each answers 200 or 409, never 500 (SQLite used to answer "database is locked" within half a
second, and PostgreSQL "does not exist" for a deployment whose pipeline a rollback changed)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.services import api_key_create
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import make_succeeded_run

pytestmark = [pytest.mark.filterwarnings("ignore")]

THREADS = 6
REQUESTS_EACH = 9


@pytest.mark.django_db(transaction=True)
def test_concurrent_activate_deactivate_and_rollback_never_answer_500(media, alice):
    run = make_succeeded_run(alice, "classifier")
    first = pipeline_promote(run=run, user=alice, name="Cancer screening")
    second = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment, _ = deployment_deploy(acknowledge_risks=True, pipeline=first, user=alice)
    deployment_deploy(acknowledge_risks=True, pipeline=second, user=alice, slug=deployment.slug)
    _, token = api_key_create(user=alice, name="ops", scopes=["read", "deploy"])
    actions = ["activate", "deactivate", "rollback"]
    statuses: list[tuple[str, int, str]] = []
    start = threading.Barrier(THREADS)

    def operator(offset: int) -> None:
        client = Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)
        try:
            start.wait()
            for i in range(REQUESTS_EACH):
                action = actions[(offset + i) % len(actions)]
                response = client.post(f"/api/v1/deployments/{deployment.slug}/{action}")
                statuses.append((action, response.status_code, response["Content-Type"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=operator, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == THREADS * REQUESTS_EACH
    assert [s for s in statuses if s[1] not in (200, 409)] == []
    assert all(s[2].startswith("application/json") for s in statuses)
    # Activate and deactivate always succeed; a rollback once, then there is nothing before.
    assert {status for action, status, _ in statuses if action != "rollback"} == {200}
    deployment.refresh_from_db()
    assert deployment.pipeline_id == first.pk
