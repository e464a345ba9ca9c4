"""The runs API per the contract: submit, get, events, cancel, re-run, and who may do what."""

import pandas as pd
import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.services import api_key_create
from accounts.tests.factories import add_member, workspace_of
from engine.models import Experiment, Run, RunEvent
from engine.tests.factories import make_dataset, make_project

pytestmark = pytest.mark.django_db

COMPARE = {"kind": "compare", "include": ["lr", "dt", "nb"], "fold": 3}


@pytest.fixture
def experiment(alice) -> Experiment:
    frame = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )


def finished_run(experiment) -> Run:
    now = timezone.now()
    run = Run.objects.create(
        experiment=experiment,
        plan={**COMPARE, "n_select": 1},
        status="succeeded",
        started_at=now,
        finished_at=now,
        progress_done=9,
        progress_total=9,
        model_id="lr",
        model_name="Logistic Regression",
        leaderboard=[{"model_id": "lr", "Model": "Logistic Regression", "Accuracy": 0.95}],
        leaderboard_sort="Accuracy",
        metrics={"Model": "Logistic Regression", "Accuracy": 0.96},
        plots=[{"name": "auc", "filename": "auc.png"}],
        environment={"pycaret": "3.3.2", "session_id": 1},
        artifact_path="runs/1/pipeline.pkl",
        artifact_sha256="ab" * 32,
    )
    for seq, message in enumerate(["setup started", "setup done", "compare done"], start=1):
        RunEvent.objects.create(run=run, seq=seq, message=message, data={"n": seq})
    return run


def submit(client, experiment, plan, **headers):
    return client.post(
        f"/api/v1/experiments/{experiment.pk}/runs",
        {"plan": plan},
        content_type="application/json",
        headers=headers,
    )


def test_submit_answers_202_with_a_queued_run(alice_client, experiment):
    response = submit(alice_client, experiment, COMPARE)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["plan"]["kind"] == "compare"
    assert body["experiment_id"] == experiment.pk
    assert Run.objects.get(pk=body["id"]).created_by.username == "alice"


@pytest.mark.parametrize(
    ("plan", "mentions"),
    [
        ({"kind": "train"}, "plan"),
        ({"kind": "compare", "include": "lr"}, "include"),
        ({"kind": "create"}, "model_id"),
        ({"kind": "compare", "fold": 1}, "fold"),
        ({"kind": "compare", "surprise": True}, "surprise"),
    ],
)
def test_a_bad_plan_is_a_422_that_names_the_problem(alice_client, experiment, plan, mentions):
    response = submit(alice_client, experiment, plan)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and mentions in body["detail"]
    assert not Run.objects.exists()


def test_get_a_run_has_the_contract_fields(alice_client, experiment):
    run = finished_run(experiment)
    body = alice_client.get(f"/api/v1/runs/{run.pk}").json()
    for field in (
        "id",
        "status",
        "plan",
        "progress",
        "leaderboard",
        "metrics",
        "error",
        "environment",
        "queued_at",
        "started_at",
        "finished_at",
    ):
        assert field in body, field
    assert body["progress"] == {"done": 9, "total": 9, "percent": 100}
    assert body["leaderboard"][0]["model_id"] == "lr" and body["metrics"]["Accuracy"] == 0.96
    assert body["error"] is None and body["artifact_sha256"] == "ab" * 32
    assert body["plots"] == [{"name": "auc", "url": f"/api/v1/runs/{run.pk}/plots/auc"}]


def test_a_plot_is_served_to_a_key_holder_of_the_workspace_only(alice, bob, client, experiment):
    from django.conf import settings

    run = finished_run(experiment)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    run_dir = settings.MEDIA_ROOT / "runs" / str(run.pk)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "auc.png").write_bytes(png)
    _, alice_key = api_key_create(user=alice, name="ro", scopes=["read"])
    _, bob_key = api_key_create(user=bob, name="ro", scopes=["read"])
    url = f"/api/v1/runs/{run.pk}/plots/auc"
    response = client.get(url, headers={"X-PyCaret-Key": alice_key})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png
    assert client.get(url, headers={"X-PyCaret-Key": bob_key}).status_code == 404
    missing = client.get(f"/api/v1/runs/{run.pk}/plots/pr", headers={"X-PyCaret-Key": alice_key})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_a_failed_run_reports_its_error(alice_client, experiment):
    run = Run.objects.create(
        experiment=experiment,
        plan=COMPARE,
        status="failed",
        error_category="CONFIG",
        error_type="ConfigError",
        error_message="Unknown model id 'zzzz'",
        error_traceback="Traceback ...",
    )
    body = alice_client.get(f"/api/v1/runs/{run.pk}").json()
    assert body["error"] == {
        "category": "CONFIG",
        "type": "ConfigError",
        "message": "Unknown model id 'zzzz'",
    }


def test_an_undispatched_run_says_it_is_waiting_for_the_queue(alice_client, experiment):
    run = Run.objects.create(
        experiment=experiment, plan=COMPARE, dispatch_error="The job queue could not be reached."
    )
    body = alice_client.get(f"/api/v1/runs/{run.pk}").json()
    assert body["dispatched"] is False
    assert body["status_detail"].startswith("Waiting for the queue")


def test_events_after_a_seq(alice_client, experiment):
    run = finished_run(experiment)
    events = alice_client.get(f"/api/v1/runs/{run.pk}/events?after=1").json()["items"]
    assert [e["seq"] for e in events] == [2, 3]
    assert set(events[0]) == {"seq", "ts", "level", "message", "data"}
    assert events[0]["data"] == {"n": 2}
    assert alice_client.get(f"/api/v1/runs/{run.pk}/events?after=3").json()["items"] == []


def test_cancel_a_queued_run_then_cancelling_again_is_a_409(alice_client, experiment):
    run = Run.objects.create(experiment=experiment, plan=COMPARE)
    response = alice_client.post(f"/api/v1/runs/{run.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = alice_client.post(f"/api/v1/runs/{run.pk}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict" and "cancelled" in again.json()["detail"]


def test_rerun_submits_the_same_plan(alice_client, experiment):
    run = finished_run(experiment)
    response = alice_client.post(f"/api/v1/runs/{run.pk}/rerun")
    assert response.status_code == 202
    body = response.json()
    assert body["id"] != run.pk and body["plan"] == run.plan and body["status"] == "queued"


def test_the_experiment_lists_its_runs(alice_client, experiment):
    old = finished_run(experiment)
    new = Run.objects.create(experiment=experiment, plan=COMPARE)
    body = alice_client.get(f"/api/v1/experiments/{experiment.pk}/runs").json()["items"]
    assert [r["id"] for r in body] == [new.pk, old.pk]


def test_bob_cannot_see_or_submit_runs_in_alices_project(bob_client, experiment):
    run = finished_run(experiment)
    assert submit(bob_client, experiment, COMPARE).status_code == 404
    assert bob_client.get(f"/api/v1/experiments/{experiment.pk}/runs").status_code == 404
    assert bob_client.get(f"/api/v1/runs/{run.pk}").status_code == 404
    assert bob_client.get(f"/api/v1/runs/{run.pk}/events").status_code == 404
    assert bob_client.post(f"/api/v1/runs/{run.pk}/cancel").status_code == 404
    assert bob_client.post(f"/api/v1/runs/{run.pk}/rerun").status_code == 404
    assert Run.objects.count() == 1


def test_a_viewer_may_read_but_not_submit_or_cancel(alice, bob, bob_client, experiment):
    add_member(workspace_of(alice), bob, Role.VIEWER)
    run = Run.objects.create(experiment=experiment, plan=COMPARE)
    assert bob_client.get(f"/api/v1/runs/{run.pk}").status_code == 200
    response = submit(bob_client, experiment, COMPARE)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert bob_client.post(f"/api/v1/runs/{run.pk}/cancel").status_code == 403
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_key_needs_the_train_scope_to_submit(alice, client, experiment):
    _, read_only = api_key_create(user=alice, name="ro", scopes=["read"])
    _, trainer = api_key_create(user=alice, name="train", scopes=["read", "train"])
    assert submit(client, experiment, COMPARE, **{"X-PyCaret-Key": read_only}).status_code == 403
    response = submit(client, experiment, COMPARE, **{"X-PyCaret-Key": trainer})
    assert response.status_code == 202
    run_id = response.json()["id"]
    got = client.get(f"/api/v1/runs/{run_id}", headers={"X-PyCaret-Key": read_only})
    assert got.status_code == 200


def test_submitting_is_audited(alice_client, experiment):
    from accounts.models import AuditEvent

    run_id = submit(alice_client, experiment, COMPARE).json()["id"]
    event = AuditEvent.objects.get(action="run.submitted")
    assert event.target_id == str(run_id) and event.metadata["plan_kind"] == "compare"
