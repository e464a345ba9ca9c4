"""The six copilots answer (offline, and through the loopback LLM) for clustering, anomaly and
time-series datasets, experiments, runs, pipelines and deployments: an answer, never a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from engine.models import Run
from engine.services.deployments import deployment_deploy
from engine.services.experiments import experiment_create
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import make_succeeded_run

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]

KINDS = ["clusters", "anomalies", "forecast"]


def post(client, route: str, body: dict):
    return client.post(f"/api/v1/llm/{route}", body, content_type="application/json")


def answers(client, route: str, body: dict) -> dict:
    response = post(client, route, body)
    assert response.status_code == 200, response.content
    advice = response.json()
    assert advice["reasoning_summary"]
    return advice


def failed_run(experiment) -> Run:
    now = timezone.now()
    return Run.objects.create(
        experiment=experiment,
        plan={"kind": "create", "model_id": "kmean"},
        status="failed",
        started_at=now,
        finished_at=now,
        error_category="CONFIG",
        error_type="ConfigError",
        error_message="Unknown model id 'kmean'. Closest valid ids: kmeans.",
    )


@pytest.fixture
def deployed(alice):
    def deploy(kind: str):
        run = make_succeeded_run(alice, kind)
        pipeline = pipeline_promote(run=run, user=alice, name=f"{kind} copilots")
        deployment, _ = deployment_deploy(acknowledge_risks=True, pipeline=pipeline, user=alice)
        return run, pipeline, deployment

    return deploy


@pytest.mark.parametrize("kind", KINDS)
def test_every_copilot_answers_for_the_new_tasks(alice, alice_client, deployed, kind):
    run, pipeline, deployment = deployed(kind)
    dataset = run.experiment.dataset
    answers(alice_client, "analyze-dataset", {"dataset_id": dataset.pk})
    answers(alice_client, "design-experiment", {"dataset_id": dataset.pk})
    answers(alice_client, "explain-run", {"run_id": run.pk})
    answers(alice_client, "debug-run", {"run_id": failed_run(run.experiment).pk})
    review = answers(alice_client, "review-deployment", {"pipeline_id": pipeline.pk})
    assert review["verdict"].startswith(("APPROVE", "DO NOT DEPLOY"))
    answers(alice_client, "analyze-drift", {"deployment_id": deployment.pk})


@pytest.mark.parametrize("kind", KINDS)
def test_the_copilot_pages_render_for_the_new_tasks(alice, alice_client, deployed, kind):
    run, pipeline, deployment = deployed(kind)
    for url in (
        f"/datasets/{run.experiment.dataset_id}/",
        f"/runs/{run.pk}/",
        f"/pipelines/{pipeline.pk}/",
        f"/deployments/{deployment.slug}/",
    ):
        assert alice_client.get(url).status_code == 200, url


def test_copilots_answer_through_the_llm_for_a_forecast(alice, alice_client, deployed, llm_server):
    run, pipeline, deployment = deployed("forecast")
    answers(alice_client, "explain-run", {"run_id": run.pk})
    answers(alice_client, "review-deployment", {"pipeline_id": pipeline.pk})
    answers(alice_client, "analyze-drift", {"deployment_id": deployment.pk})


def test_design_experiment_on_a_dataset_with_only_a_clustering_experiment(alice, alice_client):
    run = make_succeeded_run(alice, "clusters")
    experiment_create(
        project=run.experiment.project,
        dataset=run.experiment.dataset,
        name="anomalies",
        task="anomaly",
        target=None,
        setup={},
        user=alice,
    )
    answers(alice_client, "analyze-dataset", {"dataset_id": run.experiment.dataset_id})
    answers(alice_client, "design-experiment", {"dataset_id": run.experiment.dataset_id})
