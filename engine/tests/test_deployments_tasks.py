"""Clustering, anomaly and time-series pipelines: promote, deploy, predict (equal to PyCaret's
own predict_model), forecasts, batch scoring, drift and the pipeline and deployment pages."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from engine import serving
from engine.models import PredictionRequest, PredictionSample
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import (
    HTMX,
    as_records,
    assert_equal_to_forecast,
    assert_equal_to_predict_model,
    make_succeeded_run,
    sample_rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture(autouse=True)
def _fresh_serving_cache(settings):
    # Whole requests in the input sample (the default keeps 10 rows of each), so a test
    # controls the drift report's current rows with one request.
    settings.STUDIO_PREDICTION_SAMPLE_ROWS = 1000
    serving.cache_clear()
    cache.clear()
    yield
    serving.cache_clear()


def deployed(user, kind: str, name: str):
    run = make_succeeded_run(user, kind)
    pipeline = pipeline_promote(run=run, user=user, name=name)
    deployment, _ = deployment_deploy(acknowledge_risks=True, pipeline=pipeline, user=user)
    return deployment


@pytest.fixture
def clusters(alice):
    return deployed(alice, "clusters", "Iris groups")


@pytest.fixture
def anomalies(alice):
    return deployed(alice, "anomalies", "Odd flowers")


@pytest.fixture
def forecast(alice):
    return deployed(alice, "forecast", "Passengers")


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def predict(client, deployment, body):
    return post(client, f"/api/v1/deployments/{deployment.slug}/predict", body)


# Predictions equal PyCaret's.


def test_clustering_predicts_cluster_labels_like_predict_model(alice_client, clusters):
    frame = sample_rows("clusters", n=30)
    response = predict(alice_client, clusters, {"rows": as_records(frame)})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert_equal_to_predict_model("clusters", frame, answer["predictions"])
    assert answer["predictions"][0] == {"label": answer["predictions"][0]["label"]}
    assert {p["label"] for p in answer["predictions"]} <= {"Cluster 0", "Cluster 1", "Cluster 2"}
    assert (answer["pipeline_id"], answer["version"]) == (clusters.pipeline_id, 1)
    assert PredictionSample.objects.filter(deployment=clusters).count() == 30


def test_anomaly_predicts_a_flag_and_a_score_like_predict_model(alice_client, anomalies):
    frame = sample_rows("anomalies", n=30)
    outlier = {"sepal length (cm)": 9.0, "sepal width (cm)": 1.0, "petal length (cm)": 9.0}
    frame.iloc[0] = {**frame.iloc[0].to_dict(), **outlier, "petal width (cm)": 0.1}
    answer = predict(alice_client, anomalies, {"rows": as_records(frame)}).json()
    assert_equal_to_predict_model("anomalies", frame, answer["predictions"])
    first = answer["predictions"][0]
    assert set(first) == {"label", "score"} and first["label"] == 1
    assert {p["label"] for p in answer["predictions"]} <= {0, 1}


def test_a_forecast_takes_fh_and_equals_predict_model(alice_client, forecast):
    response = predict(alice_client, forecast, {"fh": 15})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert_equal_to_forecast("forecast", 15, answer["predictions"])
    first = answer["predictions"][0]
    assert first["period"] == "1961-01"
    assert set(first) == {"period", "value", "lower", "upper"}
    assert first["lower"] < first["value"] < first["upper"]
    logged = PredictionRequest.objects.get(deployment=forecast)
    assert (logged.horizon, logged.n_rows, logged.status_code) == (15, 0, 200)
    assert not PredictionSample.objects.filter(deployment=forecast).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, 'Send {"fh": N}: the number of periods after 1960-12 to forecast'),
        ({"fh": 0}, "fh must be a whole number from 1 to 1000, not 0"),
        ({"fh": 1001}, "fh must be a whole number from 1 to 1000, not 1001"),
        ({"rows": [{"month": "1961-01"}]}, "forecasts a time series, so it takes no rows"),
    ],
)
def test_a_forecast_refuses_a_bad_request_with_a_reason(alice_client, forecast, body, message):
    response = predict(alice_client, forecast, body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert PredictionRequest.objects.get(deployment=forecast).status_code == 422


def test_rows_deployments_refuse_fh(alice_client, clusters):
    response = predict(alice_client, clusters, {"fh": 3})
    assert response.status_code == 422
    assert "fh applies to time-series deployments only" in response.json()["detail"]
    missing = predict(alice_client, clusters, {"rows": [{"sepal length (cm)": 5.0}]})
    assert missing.status_code == 422
    assert "Missing columns: sepal width (cm)" in missing.json()["detail"]


def test_a_clustering_that_labels_only_its_training_rows_is_not_deployed(alice, alice_client):
    run = make_succeeded_run(alice, "clusters")
    run.summary = {**run.summary, "can_predict": False}
    run.model_id, run.model_name = "hclust", "Agglomerative Clustering"
    run.save()
    pipeline = pipeline_promote(run=run, user=alice, name="Hierarchy")
    response = post(alice_client, f"/api/v1/pipelines/{pipeline.pk}/deploy", {})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "cannot_predict"
    assert "cannot place new rows" in body["detail"] and "kmeans" in body["detail"]


# Batch scoring and drift.


def test_batch_scoring_is_refused_for_a_time_series(alice_client, forecast):
    upload = SimpleUploadedFile("future.csv", b"month\n1961-01\n", content_type="text/csv")
    response = alice_client.post(f"/api/v1/deployments/{forecast.slug}/batch", {"file": upload})
    assert response.status_code == 422
    assert "Batch scoring does not apply to time series" in response.json()["detail"]


def test_batch_scoring_a_clustering_adds_the_cluster_column(alice_client, clusters):
    from engine.services.batches import batch_execute

    frame = sample_rows("clusters", n=12)
    upload = SimpleUploadedFile("rows.csv", frame.to_csv(index=False).encode(), "text/csv")
    response = alice_client.post(f"/api/v1/deployments/{clusters.slug}/batch", {"file": upload})
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    assert batch_execute(batch_id=batch_id) == "succeeded"
    download = alice_client.get(f"/api/v1/batch-predictions/{batch_id}/download")
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[0].endswith(",Cluster")
    expected = predict(alice_client, clusters, {"rows": as_records(frame)}).json()
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == [
        p["label"] for p in expected["predictions"]
    ]


def test_a_time_series_deployment_has_no_drift_but_lists_forecast_requests(alice_client, forecast):
    predict(alice_client, forecast, {"fh": 4})
    drift = alice_client.get(f"/api/v1/deployments/{forecast.slug}/drift").json()
    assert drift["status"] == "not_applicable"
    assert drift["features"] == [] and drift["drift_share"] is None
    page = alice_client.get(f"/deployments/{forecast.slug}/").content.decode()
    assert 'id="forecast-requests"' in page
    assert "takes no input rows" in page
    assert 'data-testid="batch-not-applicable"' in page
    assert 'id="batch-file"' not in page


def test_clustering_deployments_get_feature_drift(alice_client, clusters):
    rows = as_records(sample_rows("clusters", n=40))
    predict(alice_client, clusters, {"rows": rows})
    drift = alice_client.get(f"/api/v1/deployments/{clusters.slug}/drift").json()
    assert drift["status"] == "ok"
    assert [f["name"] for f in drift["features"]] == list(rows[0])
    assert drift["prediction_drift"] is None


# Pages.


def test_the_forecast_form_draws_the_forecast(alice_client, forecast):
    page = alice_client.get(f"/deployments/{forecast.slug}/").content.decode()
    assert 'name="fh"' in page and 'name="feature_0"' not in page
    response = alice_client.post(f"/deployments/{forecast.slug}/predict/", {"fh": "6"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="predict-result"' in body and "<html" not in body
    assert '<svg class="forecast-chart"' in body and 'class="band"' in body
    assert "1961-06" in body and "1961-07" not in body
    bad = alice_client.post(f"/deployments/{forecast.slug}/predict/", {"fh": "soon"}, **HTMX)
    assert bad.status_code == 422
    assert "fh must be a whole number" in bad.content.decode()


def test_the_anomaly_predict_form_says_whether_a_row_is_an_anomaly(alice_client, anomalies):
    response = alice_client.post(f"/deployments/{anomalies.slug}/predict/", {}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "an anomaly" in body and 'data-testid="prediction-score"' in body


@pytest.mark.parametrize("kind", ["clusters", "anomalies", "forecast"])
def test_pipeline_and_deployment_pages_render_full_and_as_fragments(alice, alice_client, kind):
    deployment = deployed(alice, kind, f"{kind} pipeline")
    pipeline = deployment.pipeline
    full = alice_client.get(f"/pipelines/{pipeline.pk}/")
    assert full.status_code == 200 and "<html" in full.content.decode()
    fragment = alice_client.get(f"/pipelines/{pipeline.pk}/", **HTMX).content.decode()
    assert 'id="pipeline-body"' in fragment and "<html" not in fragment
    page = alice_client.get(f"/deployments/{deployment.slug}/").content.decode()
    assert "<html" in page and 'id="predict-form"' in page
    fragment = alice_client.get(f"/deployments/{deployment.slug}/", **HTMX).content.decode()
    assert 'id="deployment-body"' in fragment and "<html" not in fragment
    if kind != "forecast":
        assert "of every column" in full.content.decode()


def test_other_workspaces_cannot_forecast_or_see_the_deployment(bob_client, forecast):
    assert predict(bob_client, forecast, {"fh": 3}).status_code == 404
    assert bob_client.get(f"/deployments/{forecast.slug}/").status_code == 404
