"""Runs of clustering, anomaly and time-series experiments: which plans each takes (422 at
submission otherwise), the New run form, and the run page and API with what the model found."""

import pytest

from engine.models import Run
from engine.services.experiments import experiment_create
from engine.tests.factories import (
    HTMX,
    iris_features_frame,
    make_dataset,
    make_project,
    make_succeeded_run,
    monthly_series_frame,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture
def experiments(alice):
    project = make_project(alice, "Tasks")
    iris = make_dataset(project, iris_features_frame(), name="iris.csv")
    series = make_dataset(project, monthly_series_frame(), name="passengers.csv")

    def create(task, dataset, target=None, setup=None):
        return experiment_create(
            project=project,
            dataset=dataset,
            name=task,
            task=task,
            target=target,
            setup=setup or {},
            user=alice,
        )

    return {
        "clustering": create("clustering", iris),
        "anomaly": create("anomaly", iris),
        "time_series": create("time_series", series, "passengers", {"date_column": "month"}),
    }


def submit(client, experiment, plan):
    return client.post(
        f"/api/v1/experiments/{experiment.pk}/runs", {"plan": plan}, "application/json"
    )


@pytest.mark.parametrize(
    ("task", "plan"),
    [
        ("clustering", {"kind": "create", "model_id": "kmeans", "num_clusters": 4}),
        ("clustering", {"kind": "setup"}),
        ("anomaly", {"kind": "create", "model_id": "iforest", "fraction": 0.05}),
        ("anomaly", {"kind": "create", "model_id": "iforest", "plots": ["tsne"]}),
        ("time_series", {"kind": "compare", "include": ["naive", "arima"], "sort": "MAE"}),
        ("time_series", {"kind": "create", "model_id": "theta"}),
        ("time_series", {"kind": "tune", "model_id": "arima", "n_iter": 5}),
    ],
)
def test_each_task_accepts_its_plans(alice_client, experiments, task, plan):
    response = submit(alice_client, experiments[task], plan)
    assert response.status_code == 202, response.content
    assert response.json()["plan"]["kind"] == plan["kind"]


@pytest.mark.parametrize(
    ("task", "plan", "message"),
    [
        ("clustering", {"kind": "compare"}, "'compare' does not apply to clustering"),
        ("anomaly", {"kind": "tune", "model_id": "iforest"}, "runs setup, create plans"),
        ("time_series", {"kind": "blend", "top_n": 2}, "'blend' does not apply"),
        (
            "clustering",
            {"kind": "create", "model_id": "dbscan", "num_clusters": 3},
            "num_clusters does not apply to 'dbscan'",
        ),
        (
            "time_series",
            {"kind": "create", "model_id": "arima", "num_clusters": 3},
            "num_clusters only applies to clustering",
        ),
        (
            "clustering",
            {"kind": "create", "model_id": "kmeans", "fraction": 0.1},
            "fraction only applies to anomaly detection",
        ),
        ("anomaly", {"kind": "create", "model_id": "iforest", "plots": ["umap2"]}, "'umap2'"),
        (
            "time_series",
            {"kind": "create", "model_id": "arima", "plots": ["tsne"]},
            "plots on request apply to clustering and anomaly detection",
        ),
    ],
)
def test_plans_a_task_cannot_run_are_refused_at_submission(
    alice_client, experiments, task, plan, message
):
    response = submit(alice_client, experiments[task], plan)
    assert response.status_code == 422
    body = response.json()
    assert message in body["detail"]
    assert body["code"] == "not_applicable"
    assert not Run.objects.exists()


def test_fraction_is_bounded_by_the_plan_schema(alice_client, experiments):
    response = submit(
        alice_client,
        experiments["anomaly"],
        {"kind": "create", "model_id": "iforest", "fraction": 0.6},
    )
    assert response.status_code == 422
    assert "fraction" in response.json()["detail"]


def test_an_unknown_model_id_waits_for_the_runner(alice_client, experiments):
    response = submit(
        alice_client, experiments["clustering"], {"kind": "create", "model_id": "kmean"}
    )
    assert response.status_code == 202


def test_the_new_run_form_submits_a_clustering_plan(alice_client, experiments):
    experiment = experiments["clustering"]
    data = {"kind": "create", "model_id": "kmeans", "num_clusters": "3", "plots": ["tsne"]}
    response = alice_client.post(f"/experiments/{experiment.pk}/runs/new/", data, **HTMX)
    assert response.status_code == 200, response.content.decode()[:1500]
    assert Run.objects.get().plan == {
        "kind": "create",
        "model_id": "kmeans",
        "params": {},
        "num_clusters": 3,
        "plots": ["tsne"],
    }


def test_the_new_run_form_shows_a_refusal(alice_client, experiments):
    experiment = experiments["clustering"]
    data = {"kind": "create", "model_id": "optics", "num_clusters": "3"}
    response = alice_client.post(f"/experiments/{experiment.pk}/runs/new/", data, **HTMX)
    assert response.status_code == 422
    assert "num_clusters does not apply to &#x27;optics&#x27;" in response.content.decode()


# The run page and API.


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        (
            "clusters",
            ['id="cluster-sizes"', "Cluster 2", "Davies-Bouldin", "Metrics on the training data"],
        ),
        ("anomalies", ['id="flagged-rows"', 'data-testid="flagged-count"', "Flagged share"]),
        ("forecast", ['id="forecast-table"', "1961-01", "MASE", 'alt="Forecast for run #']),
    ],
)
def test_the_run_page_shows_what_the_model_found(alice, alice_client, kind, shown):
    run = make_succeeded_run(alice, kind)
    full = alice_client.get(f"/runs/{run.pk}/").content.decode()
    assert "<html" in full
    for text in shown:
        assert text in full, text
    final = alice_client.get(f"/runs/{run.pk}/", **HTMX)
    assert final.status_code == 286
    fragment = final.content.decode()
    assert 'id="run-results"' in fragment and 'id="run-summary"' in fragment
    assert "<html" not in fragment


def test_the_run_api_returns_the_summary(alice, alice_client):
    run = make_succeeded_run(alice, "anomalies")
    body = alice_client.get(f"/api/v1/runs/{run.pk}").json()
    summary = body["summary"]
    assert summary["flagged"] == body["leaderboard"][0]["Flagged"] > 0
    assert summary["rows"] == 150 and len(summary["top"]) == min(10, summary["flagged"])


def test_the_forecast_plot_is_served_to_its_workspace_only(alice, alice_client, bob_client):
    run = make_succeeded_run(alice, "forecast")
    plot = alice_client.get(f"/runs/{run.pk}/plots/forecast.png")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"
    assert bob_client.get(f"/runs/{run.pk}/plots/forecast.png").status_code == 404
