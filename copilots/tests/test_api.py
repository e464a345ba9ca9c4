"""The /api/v1/llm routes: the envelope, the state checks, access, the list, the throttle."""

from __future__ import annotations

import pytest

from accounts.services import api_key_create
from accounts.tests.factories import workspace_of
from copilots.models import Consultation
from copilots.tests.factories import (
    churn_frame,
    make_churn_experiment,
    make_deployment,
    make_failed_run,
    make_pipeline,
    make_succeeded_run,
)

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {
    "consultation_id",
    "type",
    "provider",
    "model",
    "offline",
    "reasoning_summary",
    "recommendations",
    "created_at",
}


def post(client, route: str, body: dict, **headers):
    return client.post(f"/api/v1/llm/{route}", body, content_type="application/json", **headers)


@pytest.fixture
def experiment(alice):
    return make_churn_experiment(alice)


def test_debug_run_happy_path(alice_client, experiment):
    run = make_failed_run(experiment)
    response = post(alice_client, "debug-run", {"run_id": run.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS
    assert body["type"] == "failure_debugging"
    assert body["offline"] is True and body["provider"] == "offline"
    assert body["category"] == "CONFIG"
    assert body["reasoning_summary"].startswith("CONFIG")
    assert "zzzz_not_a_model" in body["reasoning_summary"]
    assert body["suggested_config"] == {"plan": {"kind": "create", "model_id": "lr", "params": {}}}
    assert "verdict" not in body  # optional keys appear only where they apply
    consultation = Consultation.objects.get(pk=body["consultation_id"])
    assert (consultation.run, consultation.experiment, consultation.project) == (
        run,
        experiment,
        experiment.project,
    )


def test_debug_run_rejects_a_succeeded_run(alice_client, experiment):
    run = make_succeeded_run(experiment)
    response = post(alice_client, "debug-run", {"run_id": run.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "run_not_failed"
    assert not Consultation.objects.exists()


def test_explain_run_rejects_a_failed_run(alice_client, experiment):
    run = make_failed_run(experiment)
    response = post(alice_client, "explain-run", {"run_id": run.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "run_not_succeeded"


def test_explain_run(alice_client, experiment):
    run = make_succeeded_run(experiment)
    body = post(alice_client, "explain-run", {"run_id": run.pk}).json()
    assert body["type"] == "run_explanation"
    assert "Logistic Regression" in body["reasoning_summary"]


def test_review_deployment(alice_client, experiment):
    pipeline = make_pipeline(make_succeeded_run(experiment))
    response = post(alice_client, "review-deployment", {"pipeline_id": pipeline.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"].split(":")[0] in ("APPROVE", "APPROVE WITH CAVEATS", "DO NOT DEPLOY")
    assert {r["severity"] for r in body["risks"]} <= {"high", "medium", "low"}
    consultation = Consultation.objects.get(pk=body["consultation_id"])
    assert consultation.pipeline_id == pipeline.pk
    assert consultation.run_id == pipeline.origin_run_id


def test_review_404_on_unknown_pipeline(alice_client):
    response = post(alice_client, "review-deployment", {"pipeline_id": 987654})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_analyze_and_design_dataset(alice_client, experiment):
    dataset = experiment.dataset
    body = post(alice_client, "analyze-dataset", {"dataset_id": dataset.pk}).json()
    assert body["type"] == "dataset_analysis"
    assert any(r["name"] == "ID-like columns" for r in body["risks"])
    body = post(
        alice_client, "design-experiment", {"dataset_id": dataset.pk, "goal": "predict churn"}
    ).json()
    assert body["type"] == "experiment_design"
    assert body["suggested_config"]["experiment"]["target"] == "churn"


def test_analyze_drift(alice_client, experiment):
    pipeline = make_pipeline(make_succeeded_run(experiment))
    deployment = make_deployment(pipeline, samples=churn_frame(40).drop(columns=["churn"]))
    body = post(alice_client, "analyze-drift", {"deployment_id": deployment.pk}).json()
    assert body["type"] == "drift_analysis"
    consultation = Consultation.objects.get(pk=body["consultation_id"])
    assert consultation.deployment == deployment


def test_through_the_llm(alice_client, experiment, llm_server):
    run = make_failed_run(experiment)
    llm_server.reply({"reasoning_summary": "CONFIG: typo in the id.", "recommendations": ["lr"]})
    body = post(alice_client, "debug-run", {"run_id": run.pk}).json()
    assert body["offline"] is False
    assert body["provider"] == "openai" and body["model"] == "openai/test-model"
    assert body["reasoning_summary"] == "CONFIG: typo in the id."


def test_llm_failure_is_still_200_with_the_offline_answer(alice_client, experiment, llm_server):
    run = make_failed_run(experiment)
    llm_server.fail(429)
    response = post(alice_client, "debug-run", {"run_id": run.pk})
    assert response.status_code == 200
    assert response.json()["offline"] is True
    assert "rate_limited" in Consultation.objects.get().error


@pytest.mark.parametrize(
    "route, field",
    [
        ("analyze-dataset", "dataset"),
        ("design-experiment", "dataset"),
        ("explain-run", "succeeded"),
        ("debug-run", "failed"),
        ("review-deployment", "pipeline"),
        ("analyze-drift", "deployment"),
    ],
)
def test_bob_cannot_consult_on_alices_objects(route, field, bob_client, experiment):
    succeeded = make_succeeded_run(experiment)
    pipeline = make_pipeline(succeeded)
    ids = {
        "dataset": {"dataset_id": experiment.dataset_id},
        "succeeded": {"run_id": succeeded.pk},
        "failed": {"run_id": make_failed_run(experiment).pk},
        "pipeline": {"pipeline_id": pipeline.pk},
        "deployment": {"deployment_id": make_deployment(pipeline).pk},
    }
    assert post(bob_client, route, ids[field]).status_code == 404
    assert not Consultation.objects.exists()


def test_consultations_list_filters_and_scopes(alice_client, bob_client, experiment):
    failed = make_failed_run(experiment)
    succeeded = make_succeeded_run(experiment)
    post(alice_client, "debug-run", {"run_id": failed.pk})
    post(alice_client, "explain-run", {"run_id": succeeded.pk})
    post(alice_client, "analyze-dataset", {"dataset_id": experiment.dataset_id})
    listed = alice_client.get("/api/v1/llm/consultations").json()["items"]
    assert [c["type"] for c in listed] == [
        "dataset_analysis",
        "run_explanation",
        "failure_debugging",
    ]
    by_run = alice_client.get(f"/api/v1/llm/consultations?run_id={failed.pk}").json()["items"]
    assert [c["type"] for c in by_run] == ["failure_debugging"]
    by_type = alice_client.get("/api/v1/llm/consultations?type=run_explanation").json()["items"]
    assert [c["type"] for c in by_type] == ["run_explanation"]
    by_dataset = alice_client.get(
        f"/api/v1/llm/consultations?dataset_id={experiment.dataset_id}"
    ).json()["items"]
    assert [c["type"] for c in by_dataset] == ["dataset_analysis"]
    assert bob_client.get("/api/v1/llm/consultations").json()["items"] == []
    assert bob_client.get(f"/api/v1/llm/consultations?run_id={failed.pk}").json()["items"] == []


def test_api_key_with_read_scope_can_consult(alice, experiment, client):
    _key, token = api_key_create(user=alice, name="ci", scopes=["read"])
    run = make_failed_run(experiment)
    response = post(client, "debug-run", {"run_id": run.pk}, HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 200
    assert Consultation.objects.get().created_by == alice


def test_api_key_without_read_scope_is_refused(alice, experiment, client):
    _key, token = api_key_create(user=alice, name="predict-only", scopes=["predict"])
    run = make_failed_run(experiment)
    response = post(client, "debug-run", {"run_id": run.pk}, HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 403


def test_throttle_per_user(alice_client, bob_client, bob, experiment, settings):
    settings.COPILOT_THROTTLE_PER_MINUTE = 3
    run = make_failed_run(experiment)
    codes = [post(alice_client, "debug-run", {"run_id": run.pk}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert post(alice_client, "debug-run", {"run_id": run.pk}).json()["code"] == "throttled"
    assert Consultation.objects.count() == 3
    # another user has a budget of their own
    bob_experiment = make_churn_experiment(bob, name="Bob's")
    bob_run = make_failed_run(bob_experiment)
    assert post(bob_client, "debug-run", {"run_id": bob_run.pk}).status_code == 200


def test_default_throttle_is_twenty_a_minute(alice_client, experiment):
    run = make_failed_run(experiment)
    codes = [post(alice_client, "debug-run", {"run_id": run.pk}).status_code for _ in range(21)]
    assert codes.count(200) == 20 and codes[-1] == 429


def test_unauthenticated_is_401(client, experiment):
    run = make_failed_run(experiment)
    assert post(client, "debug-run", {"run_id": run.pk}).status_code == 401


def test_workspace_is_recorded(alice_client, alice, experiment):
    run = make_failed_run(experiment)
    post(alice_client, "debug-run", {"run_id": run.pk})
    assert Consultation.objects.get().workspace == workspace_of(alice)


def test_routes_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert sorted(p.removeprefix("/api/v1/llm/") for p in paths if "/llm/" in p) == [
        "analyze-dataset",
        "analyze-drift",
        "consultations",
        "debug-run",
        "design-experiment",
        "explain-run",
        "review-deployment",
    ]
