"""Which worker ran a run: recorded when a worker claims it, shown on the run page and in the
API (`worker`)."""

import pytest
from celery.utils.nodenames import gethostname
from django.utils import timezone

from engine.models import Run
from engine.tasks import run_execute_task
from engine.tests.factories import (
    HTMX,
    breast_cancer_frame,
    make_dataset,
    make_experiment,
    make_project,
)

pytestmark = pytest.mark.django_db

HOSTNAME = "worker2@gpu-host-b"


@pytest.fixture
def experiment(alice):
    dataset = make_dataset(make_project(alice), breast_cancer_frame(), name="bc.csv")
    return make_experiment(dataset, target="target", setup={"session_id": 1})


@pytest.fixture
def running_run(experiment, alice):
    now = timezone.now()
    return Run.objects.create(
        experiment=experiment,
        plan={"kind": "setup"},
        status="running",
        started_at=now,
        heartbeat_at=now,
        worker=HOSTNAME,
        created_by=alice,
    )


def test_the_run_page_names_the_worker_full_page_and_fragment(alice_client, running_run):
    page = alice_client.get(f"/runs/{running_run.pk}/")
    assert page.status_code == 200
    assert f'<code data-testid="run-worker">{HOSTNAME}</code>' in page.content.decode()

    fragment = alice_client.get(f"/runs/{running_run.pk}/", **HTMX)
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body and HOSTNAME in body


def test_the_api_names_the_worker_and_null_before_a_claim(alice_client, running_run, alice):
    body = alice_client.get(f"/api/v1/runs/{running_run.pk}").json()
    assert body["worker"] == HOSTNAME

    queued = Run.objects.create(experiment=running_run.experiment, plan={"kind": "setup"})
    assert alice_client.get(f"/api/v1/runs/{queued.pk}").json()["worker"] is None
    page = alice_client.get(f"/runs/{queued.pk}/").content.decode()
    assert 'data-testid="run-worker"' not in page

    schema = alice_client.get("/api/v1/openapi.json").json()
    assert "worker" in schema["components"]["schemas"]["RunOut"]["properties"]


def test_another_workspace_sees_no_worker_name(bob_client, running_run):
    assert bob_client.get(f"/runs/{running_run.pk}/").status_code == 404
    response = bob_client.get(f"/api/v1/runs/{running_run.pk}")
    assert response.status_code == 404 and HOSTNAME not in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the run's watcher thread reads it committed
def test_claiming_a_run_records_the_claiming_workers_hostname(experiment, alice):
    run = Run.objects.create(experiment=experiment, plan={"kind": "setup"}, created_by=alice)
    # In this process, as Celery runs a task eagerly: the request's hostname is this host's.
    assert run_execute_task.apply(args=[run.pk]).get() == "succeeded"
    run.refresh_from_db()
    assert run.worker == gethostname()
