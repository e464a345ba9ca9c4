"""Trust: the run page says what it was promoted as, predictions show every class's probability
and warn about categories never seen in training, batch rows count in the statistics and the
drift input, and numbers print one way."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from copilots.rules.drift import measure
from engine import numbers, serving
from engine.models import PredictionRequest, PredictionSample
from engine.selectors.deployments import deployment_drift_report, deployment_stats
from engine.services.batches import batch_execute
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.templatetags.deploy import pclause, pvalue
from engine.tests.factories import (
    HTMX,
    as_records,
    labels_frame,
    make_dataset,
    make_experiment,
    make_project,
    make_succeeded_run,
    sample_rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture(autouse=True)
def _fresh_serving_cache():
    serving.cache_clear()
    cache.clear()
    yield
    serving.cache_clear()


@pytest.fixture
def run(alice):
    return make_succeeded_run(alice, "labels")


@pytest.fixture
def deployment(alice, run):
    pipeline = pipeline_promote(run=run, user=alice, name="Labels")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    return deployment


def predict(client, slug, rows):
    return client.post(
        f"/api/v1/deployments/{slug}/predict", {"rows": rows}, content_type="application/json"
    )


# The run page says what the run was promoted as.


def test_the_run_page_says_promoted_as_which_pipeline_version(alice, alice_client, run):
    url = reverse("run_detail", args=[run.pk])
    assert "Promoted as" not in alice_client.get(url).content.decode()
    pipeline_promote(run=run, user=alice, name="Churn")
    second = pipeline_promote(run=run, user=alice, name="Churn")
    link = f'<a href="{reverse("pipeline_detail", args=[second.pk])}">Churn v2</a>'
    page = alice_client.get(url).content.decode()
    assert 'data-testid="run-promoted"' in page and link in page
    fragment = alice_client.get(url, **HTMX).content.decode()  # the last poll's status
    assert "<html" not in fragment and link in fragment


def test_bob_cannot_see_alices_run_page(bob_client, run):
    assert bob_client.get(reverse("run_detail", args=[run.pk])).status_code == 404


# Predict: every class's probability, and a warning for an unseen category.


def test_predict_api_gives_every_class_probability_and_warns_of_unseen_categories(
    alice_client, deployment
):
    rows = as_records(sample_rows("labels", n=3))
    rows[1]["colour"] = "Atlantis"
    response = predict(alice_client, deployment.slug, rows)
    assert response.status_code == 200, response.content
    body = response.json()
    for prediction in body["predictions"]:
        assert set(prediction) == {"label", "score", "probabilities"}
        assert set(prediction["probabilities"]) == {"no", "yes"}
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
        assert prediction["probabilities"][prediction["label"]] == pytest.approx(
            prediction["score"]
        )
    [warning] = body["warnings"]
    assert (warning["column"], warning["values"], warning["rows"]) == ("colour", ["Atlantis"], 1)
    assert "never appeared in the training data" in warning["message"]
    # the sample kept for drift stays small: no per-class probabilities
    assert all(set(s.prediction) == {"label", "score"} for s in PredictionSample.objects.all())


def test_known_categories_give_no_warning(alice_client, deployment):
    body = predict(alice_client, deployment.slug, as_records(sample_rows("labels", n=3))).json()
    assert body["warnings"] == []


def test_the_predict_page_shows_each_probability_and_the_warning(alice_client, deployment):
    row = as_records(sample_rows("labels", n=1))[0]
    url = reverse("deployment_predict", args=[deployment.slug])
    fields = alice_client.get(reverse("deployment_detail", args=[deployment.slug]))
    assert fields.status_code == 200
    form = _input_names(deployment, row, colour="<b>Atlantis</b>")
    fragment = alice_client.post(url, form, **HTMX)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html and 'data-testid="prediction-probabilities"' in html
    assert '<th scope="row">yes</th>' in html and '<th scope="row">no</th>' in html
    assert 'data-testid="predict-warning"' in html
    assert "&lt;b&gt;Atlantis&lt;/b&gt;" in html and "<b>Atlantis" not in html
    page = alice_client.post(url, form).content.decode()
    assert "<html" in page and 'data-testid="predict-warning"' in page


def _input_names(deployment, row, **overrides) -> dict:
    from engine.views.deployments import predict_fields

    values = {**row, **overrides}
    return {
        f["input_name"]: "" if values[f["name"]] is None else values[f["name"]]
        for f in predict_fields(deployment)
    }


def test_bob_cannot_predict_on_alices_deployment_page(bob_client, deployment):
    url = reverse("deployment_predict", args=[deployment.slug])
    assert bob_client.post(url, {}, **HTMX).status_code == 404


# Batch rows count in the statistics and feed the drift report.


def test_batch_rows_count_in_the_statistics_and_the_drift_input(alice_client, deployment):
    frame = sample_rows("labels", n=40)
    upload = SimpleUploadedFile("rows.csv", frame.to_csv(index=False).encode(), "text/csv")
    response = alice_client.post(f"/api/v1/deployments/{deployment.slug}/batch", {"file": upload})
    assert response.status_code == 202, response.content
    assert batch_execute(batch_id=response.json()["id"]) == "succeeded"
    logged = PredictionRequest.objects.get(deployment=deployment)
    assert (logged.source, logged.n_rows, logged.status_code) == ("batch", 40, 200)
    assert PredictionSample.objects.filter(deployment=deployment).count() == 40
    stats = deployment_stats(deployment=deployment)
    assert (stats["requests"], stats["rows"], stats["batch_rows"]) == (0, 40, 40)
    api = alice_client.get(f"/api/v1/deployments/{deployment.slug}/stats").json()
    assert (api["rows"], api["batch_rows"]) == (40, 40)
    page = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content
    assert b"<dt>Rows</dt><dd>40</dd>" in page and b"40 of them from batch CSVs" in page
    report = deployment_drift_report(deployment=deployment)
    assert report["current_rows"] == 40 and report["features"]


# One way to print numbers.


@pytest.mark.parametrize(
    ("p", "text", "clause"),
    [
        (4.0e-06, "< 0.0001", "p < 0.0001"),
        (0.0, "< 0.0001", "p < 0.0001"),
        (0.01234, "0.0123", "p = 0.0123"),
        (1.0, "1.0000", "p = 1.0000"),
        (None, "—", ""),
    ],
)
def test_p_values_print_one_way(p, text, clause):
    assert numbers.p_value(p) == pvalue(p) == text
    assert numbers.p_clause(p) == pclause(p) == clause


def test_the_copilots_write_p_values_the_same_way():
    assert measure({"test": "ks", "statistic": 0.52, "p_value": 4.0e-06}) == "ks 0.52, p < 0.0001"
    assert measure({"test": "chi2", "statistic": 3.1, "p_value": 0.0312}).endswith("p = 0.0312")


def test_metrics_print_four_decimals():
    assert numbers.metric(0.94671) == "0.9467" and numbers.metric(3) == "3"
    assert numbers.metric(None) == "" and numbers.metric(float("nan")) == "nan"


# The experiment page's "Run N submitted: Queued…" notice follows the polled runs list.


def test_the_submitted_notice_can_follow_the_runs_status(alice, alice_client, bob_client):
    from engine.models import RunStatus

    project = make_project(alice)
    dataset = make_dataset(project, labels_frame(), name="labels.csv")
    experiment = make_experiment(dataset, target="target", setup={"fold": 2})
    url = reverse("run_create", args=[experiment.pk])
    response = alice_client.post(url, {"kind": "create", "model_id": "lr"}, **HTMX)
    assert response.status_code == 200
    run = experiment.runs.get()
    body = response.content.decode()
    assert f'data-submitted-run="{run.pk}"' in body and "<html" not in body
    run.status = RunStatus.SUCCEEDED
    run.save(update_fields=["status"])
    listing = alice_client.get(reverse("experiment_runs", args=[experiment.pk]), **HTMX)
    assert (
        f'<tr data-run-id="{run.pk}" data-status-detail="Succeeded.">' in listing.content.decode()
    )
    assert bob_client.get(reverse("experiment_runs", args=[experiment.pk])).status_code == 404
