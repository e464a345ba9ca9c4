"""The copilots know the five tasks: a series suggests forecasting and a dataset with no
plausible target clustering or anomaly detection (dataset analysis), and the suggested
configurations are valid plans of their task (experiment design), offline and through the
loopback LLM."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from copilots.consultations.experiment_design import validate_config
from copilots.models import Consultation
from copilots.rules import outcomes, tasks
from copilots.rules.checklist import model_risks
from engine.capabilities import plan_problems
from engine.model_registry import is_known_model
from engine.models import PredictionRequest
from engine.plans import parse_plan, parse_setup_options
from engine.services.deployments import deployment_deploy
from engine.services.experiments import experiment_create
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import (
    HTMX,
    diabetes_frame,
    iris_features_frame,
    make_dataset,
    make_project,
    make_succeeded_run,
    monthly_series_frame,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


def post(client, route: str, body: dict) -> dict:
    response = client.post(f"/api/v1/llm/{route}", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def daily_sales(n: int = 120) -> pd.DataFrame:
    """A generated daily series with a weekly season, its dates as a column called `day`."""
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    values = 200 + 20 * np.sin(2 * np.pi * np.arange(n) / 7) + rng.normal(0, 5, n)
    return pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "units": values.round(2)})


@pytest.fixture
def upload(alice):
    project = make_project(alice, name="Tasks")

    def upload(frame: pd.DataFrame, name: str):
        return make_dataset(project, frame, name=name, user=alice)

    return upload


def assert_valid_for_task(config: dict, dataset, user) -> None:
    """The configuration passes the engine's own checks for its task and creates an
    experiment."""
    task = config["experiment"]["task"]
    plan = parse_plan(config["plan"])
    assert plan_problems(plan, task) == []
    for model_id in [getattr(plan, "model_id", None), *(getattr(plan, "include", None) or [])]:
        assert model_id is None or is_known_model(task, model_id), model_id
    parse_setup_options(task, config["experiment"]["setup"])
    checked, problems = validate_config(config, dataset)
    assert problems == [] and checked is not None
    experiment_create(
        project=dataset.project,
        dataset=dataset,
        name=config["experiment"]["name"],
        task=task,
        target=config["experiment"]["target"] or None,
        setup=config["experiment"]["setup"],
        user=user,
    )


# The rules, on values.


def test_a_plausible_target_is_named_like_one_or_holds_labels():
    measurement = {"name": "petal width (cm)", "kind": "numeric", "dtype": "float64", "unique": 22}
    assert not tasks.plausible_target(measurement)
    assert tasks.plausible_target({**measurement, "name": "price"})
    assert tasks.plausible_target({**measurement, "name": "target"})
    assert tasks.plausible_target({**measurement, "name": "stackloss"}, "stackloss.csv")
    assert tasks.plausible_target({"name": "kind", "kind": "categorical", "unique": 3})
    assert tasks.plausible_target({"name": "n", "kind": "numeric", "dtype": "int64", "unique": 5})


@pytest.mark.parametrize(
    ("frequency", "points", "fh"),
    [("M", 144, 12), ("D", 120, 7), ("Q-DEC", 40, 4), ("M", 30, 6), ("M", 6, 0)],
)
def test_the_horizon_fits_the_frequency_and_what_the_series_can_validate(frequency, points, fh):
    assert tasks.horizon(frequency, points) == fh


def test_the_unsupervised_task_follows_the_goal():
    assert tasks.unsupervised_task("") == "clustering"
    assert tasks.unsupervised_task("find unusual transactions") == "anomaly"
    assert tasks.unsupervised_plan("anomaly")["model_id"] == "iforest"
    assert tasks.unsupervised_plan("clustering")["num_clusters"] == tasks.NUM_CLUSTERS


# Dataset analysis.


@pytest.mark.parametrize(
    ("frame_fn", "name", "dates", "target", "fh"),
    [
        (monthly_series_frame, "air.csv", "month", "passengers", 12),
        (daily_sales, "sales_daily.csv", "day", "units", 7),
    ],
)
def test_a_date_column_with_a_numeric_series_suggests_forecasting(
    alice_client, upload, frame_fn, name, dates, target, fh
):
    dataset = upload(frame_fn(), name)
    advice = post(alice_client, "analyze-dataset", {"dataset_id": dataset.pk})
    summary = advice["reasoning_summary"]
    assert f"The target (guessed) is '{target}', which looks like time_series" in summary
    assert f"'{dates}' (it holds the series' dates)" in summary
    assert f"date_column='{dates}', target='{target}', fh={fh}" in advice["recommendations"][0]
    # the dates are the series' index, not an ID-like column to ignore
    assert not any(r["name"] == "ID-like columns" for r in advice["risks"])


def test_dates_that_repeat_are_no_series(alice_client, upload):
    frame = daily_sales(60)
    frame = pd.concat([frame, frame.head(10)], ignore_index=True)
    dataset = upload(frame, "repeats.csv")
    advice = post(alice_client, "analyze-dataset", {"dataset_id": dataset.pk})
    assert "time_series" not in advice["reasoning_summary"]


def test_a_dataset_with_no_plausible_target_suggests_clustering_or_anomaly(alice_client, upload):
    dataset = upload(iris_features_frame(), "measurements.csv")
    advice = post(alice_client, "analyze-dataset", {"dataset_id": dataset.pk})
    assert "No column is plausibly a target" in advice["reasoning_summary"]
    assert "clustering" in advice["recommendations"][0]
    assert "anomaly detection" in advice["recommendations"][0]


def test_a_named_target_is_plausible(alice_client, upload):
    dataset = upload(diabetes_frame(), "diabetes.csv")
    advice = post(alice_client, "analyze-dataset", {"dataset_id": dataset.pk})
    assert "plausibly" not in advice["reasoning_summary"]
    assert "which looks like regression" in advice["reasoning_summary"]


# Experiment design: a valid plan of each task.


def test_design_suggests_a_valid_forecast(alice, alice_client, upload):
    dataset = upload(monthly_series_frame(), "air.csv")
    advice = post(alice_client, "design-experiment", {"dataset_id": dataset.pk})
    config = advice["suggested_config"]
    assert config["experiment"]["task"] == "time_series"
    assert config["experiment"]["target"] == "passengers"
    assert config["experiment"]["setup"] == {
        "date_column": "month",
        "fh": 12,
        "fold": 3,
        "session_id": 123,
    }
    assert config["plan"]["kind"] == "compare" and config["plan"]["sort"] == "MASE"
    assert_valid_for_task(config, dataset, alice)


def test_design_suggests_a_valid_clustering_with_no_target(alice, alice_client, upload):
    dataset = upload(iris_features_frame(), "measurements.csv")
    advice = post(alice_client, "design-experiment", {"dataset_id": dataset.pk})
    config = advice["suggested_config"]
    assert config["experiment"]["task"] == "clustering"
    assert config["experiment"]["target"] == ""
    assert config["plan"] == {
        "kind": "create",
        "model_id": "kmeans",
        "params": {},
        "num_clusters": 3,
    }
    assert_valid_for_task(config, dataset, alice)


def test_design_suggests_anomaly_detection_when_the_goal_asks_for_outliers(
    alice, alice_client, upload
):
    dataset = upload(iris_features_frame(), "measurements.csv")
    body = {"dataset_id": dataset.pk, "goal": "find the outliers"}
    config = post(alice_client, "design-experiment", body)["suggested_config"]
    assert config["experiment"]["task"] == "anomaly"
    assert config["plan"]["model_id"] == "iforest" and config["plan"]["fraction"] == 0.05
    assert_valid_for_task(config, dataset, alice)


def test_design_sorts_a_forecast_by_the_goals_metric(alice_client, upload):
    dataset = upload(daily_sales(), "sales_daily.csv")
    body = {"dataset_id": dataset.pk, "goal": "forecast units; judge by RMSE"}
    config = post(alice_client, "design-experiment", body)["suggested_config"]
    assert config["plan"]["sort"] == "RMSE"
    assert config["experiment"]["setup"]["fh"] == 7


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({"kind": "compare"}, "plan.kind"),
        ({"kind": "create", "model_id": "lr"}, "unknown model id 'lr' for clustering"),
        ({"kind": "create", "model_id": "kmeans", "fraction": 0.1}, "plan.fraction"),
    ],
)
def test_a_plan_its_task_cannot_run_is_refused(upload, plan, problem):
    dataset = upload(iris_features_frame(), "measurements.csv")
    config = {"experiment": {"task": "clustering", "target": "", "setup": {}}, "plan": plan}
    checked, problems = validate_config(config, dataset)
    assert checked is None
    assert any(problem in p for p in problems), problems


def test_the_llms_invalid_forecast_gives_way_to_the_offline_one(alice_client, upload, llm_server):
    dataset = upload(monthly_series_frame(), "air.csv")
    llm_server.reply(
        {
            "reasoning_summary": "Forecast it.",
            "recommendations": ["Use the naive model."],
            "suggested_config": {
                "experiment": {
                    "task": "time_series",
                    "target": "passengers",
                    "setup": {"date_column": "month", "fh": 200},
                },
                "plan": {"kind": "create", "model_id": "prophet_like"},
            },
        }
    )
    advice = post(alice_client, "design-experiment", {"dataset_id": dataset.pk})
    assert advice["offline"] is False
    assert advice["suggested_config"]["experiment"]["setup"]["fh"] == 12
    assert "not valid for this dataset" in " ".join(advice["notes"])
    text = llm_server.requests[0].text
    assert "time_series_setup_options" in text and '"series"' in text


def test_the_llm_may_suggest_a_valid_forecast(alice_client, upload, llm_server):
    dataset = upload(monthly_series_frame(), "air.csv")
    plan = {"kind": "create", "model_id": "ets"}
    setup = {"date_column": "month", "fh": 6, "fold": 2}
    llm_server.reply(
        {
            "reasoning_summary": "A monthly series.",
            "recommendations": ["Forecast six months."],
            "suggested_config": {
                "experiment": {"task": "time_series", "target": "passengers", "setup": setup},
                "plan": plan,
            },
        }
    )
    advice = post(alice_client, "design-experiment", {"dataset_id": dataset.pk})
    assert advice["suggested_config"]["experiment"]["setup"] == setup
    assert advice["suggested_config"]["plan"]["model_id"] == "ets"


# The risk checks of each task, on values.


def test_a_cluster_over_ninety_percent_of_the_rows_is_a_risk():
    def summary(*rows):
        total = sum(rows)
        clusters = [
            {"label": f"Cluster {i}", "rows": n, "share": n / total} for i, n in enumerate(rows)
        ]
        return {"rows": total, "clusters": clusters}

    (found,) = outcomes.dominant_cluster_risks(summary(143, 7))
    assert found["name"] == outcomes.DOMINANT_RISK and found["severity"] == "medium"
    assert "'Cluster 0' holds 95% of the 150 rows" in found["evidence"]
    assert outcomes.dominant_cluster_risks(summary(135, 15)) == []  # exactly 90%
    assert outcomes.dominant_cluster_risks(summary(38, 50, 62)) == []
    assert outcomes.dominant_cluster_risks(summary(150)) == []  # one cluster: nothing to compare


@pytest.mark.parametrize(
    ("fraction", "share", "fires"),
    [
        (0.05, 0.30, True),
        (0.1, 0.02, True),
        (0.05, 0.053333, False),
        (0.05, 0.09, False),
        (0.002, 0.006, False),
        (None, 0.3, False),
    ],
)
def test_a_flagged_share_far_from_the_fraction_is_a_risk(fraction, share, fires):
    summary = {"rows": 150, "flagged": round(150 * share), "flagged_share": share}
    found = outcomes.flagged_rate_risks({**summary, "fraction": fraction})
    assert [r["name"] for r in found] == ([outcomes.FLAGGED_RISK] if fires else [])


@pytest.mark.parametrize(
    ("horizon", "validated", "fires"),
    [(36, 12, True), (13, 12, True), (12, 12, False), (6, 12, False), (36, None, False)],
)
def test_a_horizon_beyond_the_validated_window_is_a_risk(horizon, validated, fires):
    found = outcomes.horizon_risks(horizon=horizon, validated=validated)
    assert [r["name"] for r in found] == ([outcomes.HORIZON_RISK] if fires else [])
    if fires:
        assert f"only the last {validated}" in found[0]["evidence"]


def test_the_checks_a_task_does_not_have_are_skipped():
    facts = {
        "task": "clustering",
        "target": "",
        "metric": "Silhouette",
        "best": {"model_id": "kmeans", "Silhouette": 0.999},
        "runner_up": {"model_id": "kmeans", "Silhouette": 0.999},
        "holdout": {"Silhouette": 0.5},
        "train_rows": 40,
        "n_features": 30,
        "class_counts": {"a": 97, "b": 3},
        "summary": {"rows": 40, "clusters": []},
    }
    # no overfit, tiny margin, sample size or sort metric: only the environment's check is left
    assert [r["name"] for r in model_risks(facts)] == ["training environment unknown"]
    # the same facts of a regression are judged by every supervised check
    names = {
        r["name"]
        for r in model_risks(
            {
                **facts,
                "task": "regression",
                "metric": "R2",
                "best": {"model_id": "lr", "R2": 0.999},
                "runner_up": {"model_id": "dt", "R2": 0.999},
                "holdout": {"R2": 0.5},
            }
        )
    }
    assert {"tiny margin over the runner-up", "small training sample"} <= names
    assert outcomes.applies("overfit", "time_series") and not outcomes.applies(
        "sample_size", "time_series"
    )
    assert not outcomes.applies("leakage", "anomaly") and outcomes.applies(
        "leakage", "classification"
    )


# Run explanation and deployment review, in each task's own metrics.


def explained_and_reviewed(client, run, user):
    pipeline = pipeline_promote(run=run, user=user, name=f"{run.experiment.task} model")
    explanation = post(client, "explain-run", {"run_id": run.pk})
    review = post(client, "review-deployment", {"pipeline_id": pipeline.pk})
    return explanation, review, pipeline


def names(advice) -> set[str]:
    return {r["name"] for r in advice["risks"]}


def assert_no_classification_metric(*advice) -> None:
    for item in advice:
        text = " ".join([item["reasoning_summary"], *item["recommendations"]])
        for metric in ("Accuracy", "AUC", "F1", "Kappa", "MCC", "Recall"):
            assert metric not in text, (metric, text)


def test_a_clustering_is_explained_and_reviewed_by_its_own_scores(alice, alice_client):
    run = make_succeeded_run(alice, "clusters")
    explanation, review, _ = explained_and_reviewed(alice_client, run, alice)
    summary = explanation["reasoning_summary"]
    assert "found 3 clusters in 150 rows" in summary
    assert "Silhouette 0.5528 (higher is better)" in summary and "Davies-Bouldin" in summary
    assert "no holdout" in summary and "stable" not in summary
    assert not any(r.startswith("Tune ") for r in explanation["recommendations"])
    assert review["verdict"] == "APPROVE" and review["risks"] == explanation["risks"] == []
    assert "Silhouette 0.5528 on the rows it was fitted on" in review["reasoning_summary"]
    assert_no_classification_metric(explanation, review)


def test_a_model_that_finds_its_own_number_of_clusters_is_not_told_to_set_it(alice, alice_client):
    run = make_succeeded_run(alice, "clusters")
    run.model_id, run.model_name = "dbscan", "Density-Based Spatial Clustering"
    run.save(update_fields=["model_id", "model_name"])
    explanation = post(alice_client, "explain-run", {"run_id": run.pk})
    assert explanation["recommendations"][0].startswith(
        "dbscan finds the number of clusters itself"
    )


def test_a_dominant_cluster_fires_in_the_explanation_and_the_review(alice, alice_client):
    run = make_succeeded_run(alice, "clusters")
    run.summary = {
        **run.summary,
        "clusters": [
            {"label": "Cluster 0", "rows": 141, "share": 0.94},
            {"label": "Cluster 1", "rows": 9, "share": 0.06},
        ],
    }
    run.save(update_fields=["summary"])
    explanation, review, _ = explained_and_reviewed(alice_client, run, alice)
    assert outcomes.DOMINANT_RISK in names(explanation) == names(review)
    assert review["verdict"].startswith("APPROVE WITH CAVEATS: one cluster holds most rows")
    assert explanation["recommendations"][0].startswith("One cluster holds almost every row")


def test_an_anomaly_detector_is_judged_by_the_rows_it_flagged(alice, alice_client):
    run = make_succeeded_run(alice, "anomalies")
    explanation, review, _ = explained_and_reviewed(alice_client, run, alice)
    assert (
        "flagged 8 of the 150 rows (5.3%; fraction=0.05 was asked for)"
        in (explanation["reasoning_summary"])
    )
    assert "n/a" not in explanation["reasoning_summary"] + review["reasoning_summary"]
    assert review["verdict"] == "APPROVE"
    assert_no_classification_metric(explanation, review)

    run.summary = {**run.summary, "flagged": 45, "flagged_share": 0.3}
    run.save(update_fields=["summary"])
    explanation = post(alice_client, "explain-run", {"run_id": run.pk})
    assert names(explanation) == {outcomes.FLAGGED_RISK}
    assert (
        "fraction=0.05 was asked for, but the model flagged 30.0%"
        in (explanation["risks"][0]["evidence"])
    )


def test_a_forecast_is_judged_by_its_held_out_window_and_the_horizons_asked(alice, alice_client):
    run = make_succeeded_run(alice, "forecast")
    explanation, review, pipeline = explained_and_reviewed(alice_client, run, alice)
    assert "Cross-validated MASE" in explanation["reasoning_summary"]
    assert "holdout (the last 12 periods)" in explanation["reasoning_summary"]
    assert "feature" not in explanation["reasoning_summary"]
    assert review["verdict"] == "APPROVE" and names(review) == set()
    assert_no_classification_metric(explanation, review)

    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice)
    PredictionRequest.objects.create(deployment=deployment, horizon=36)
    PredictionRequest.objects.create(deployment=deployment, horizon=60, status_code=422)
    explanation = post(alice_client, "explain-run", {"run_id": run.pk})
    review = post(alice_client, "review-deployment", {"pipeline_id": pipeline.pk})
    assert names(explanation) == names(review) == {outcomes.HORIZON_RISK}
    assert "forecasts of up to 36 periods ahead" in review["risks"][0]["evidence"]
    assert review["verdict"].startswith("APPROVE WITH CAVEATS")
    assert any("fh=36" in r for r in explanation["recommendations"])


def test_the_llm_cannot_drop_a_task_check_and_reads_the_tasks_metrics(
    alice, alice_client, llm_server
):
    run = make_succeeded_run(alice, "clusters")
    run.summary = {
        **run.summary,
        "clusters": [
            {"label": "Cluster 0", "rows": 145, "share": 0.9667},
            {"label": "Cluster 1", "rows": 5, "share": 0.0333},
        ],
    }
    run.save(update_fields=["summary"])
    pipeline = pipeline_promote(run=run, user=alice, name="clusters")
    llm_server.reply(
        {"reasoning_summary": "Fine.", "recommendations": ["Ship."], "verdict": "APPROVE"}
    )
    review = post(alice_client, "review-deployment", {"pipeline_id": pipeline.pk})
    assert review["offline"] is False
    assert review["verdict"].startswith("APPROVE WITH CAVEATS: one cluster holds most rows")
    assert names(review) == {outcomes.DOMINANT_RISK}
    sent = llm_server.requests[0].text
    assert "what_it_found" in sent and "Cluster 0" in sent and "Accuracy" not in sent


# The pages: the suggestion in the dialog, and the experiment form it fills in.


def test_the_design_page_shows_and_applies_a_forecast(alice, alice_client, bob_client, upload):
    dataset = upload(monthly_series_frame(), "air.csv")
    fragment = alice_client.post(f"/copilots/datasets/{dataset.pk}/design/", **HTMX)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    assert "Create a time_series experiment on &#x27;passengers&#x27;." in html
    page = alice_client.post(f"/copilots/datasets/{dataset.pk}/design/").content.decode()
    assert "<html" in page and "Index the series by &#x27;month&#x27;" in page
    consultation = Consultation.objects.filter(dataset=dataset).latest("created_at")
    url = f"/copilots/consultations/{consultation.pk}/apply/"
    form = alice_client.get(url, **HTMX).content.decode()
    assert re.search(r'<option value="time_series" selected>', form)
    assert re.search(r'<option value="month" selected>', form)
    assert 'name="fh" value="12"' in form and 'name="fold" value="3"' in form
    assert "<html" in alice_client.get(url).content.decode()
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(f"/copilots/datasets/{dataset.pk}/design/", **HTMX).status_code == 404


def test_the_design_page_applies_a_clustering(alice, alice_client, upload):
    dataset = upload(iris_features_frame(), "measurements.csv")
    html = alice_client.post(f"/copilots/datasets/{dataset.pk}/design/", **HTMX).content.decode()
    assert "Create a clustering experiment." in html
    consultation = Consultation.objects.filter(dataset=dataset).latest("created_at")
    form = alice_client.get(f"/copilots/consultations/{consultation.pk}/apply/", **HTMX)
    assert re.search(r'<option value="clustering" selected>', form.content.decode())
    assert re.search(r'name="normalize"[^>]*checked', form.content.decode())


def test_a_columns_name_is_escaped_in_the_forecast_suggestion(alice_client, upload):
    frame = monthly_series_frame().rename(columns={"passengers": "<b>sold</b>"})
    dataset = upload(frame, "air_html.csv")
    html = alice_client.post(f"/copilots/datasets/{dataset.pk}/analyze/", **HTMX).content.decode()
    assert "target=&#x27;&lt;b&gt;sold&lt;/b&gt;&#x27;, fh=12" in html
    assert "<b>sold</b>" not in html
