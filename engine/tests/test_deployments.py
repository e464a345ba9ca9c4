"""Deployments: deploy and slugs, predict (round trip, checks, log), rollback, activation,
artifact integrity, drift, access, and the deployment page."""

import html
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent, Role
from accounts.services import api_key_create
from accounts.tests.factories import add_member, login_client, workspace_of
from engine import serving
from engine.models import (
    BatchPrediction,
    Deployment,
    DeploymentRevision,
    PredictionRequest,
    PredictionSample,
)
from engine.services.batches import escape_cell
from engine.services.deployments import deployment_deactivate, deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.services.prediction_log import prediction_log, samples_trim
from engine.storage import batch_prefix, list_names
from engine.tests.factories import (
    HTMX,
    as_records,
    assert_equal_to_predict_model,
    make_succeeded_run,
    sample_rows,
    trained,
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


@pytest.fixture
def run(alice):
    return make_succeeded_run(alice, "classifier")


@pytest.fixture
def pipeline(alice, run):
    return pipeline_promote(run=run, user=alice, name="Cancer screening")


@pytest.fixture
def deployment(alice, pipeline):
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    return deployment


def post(client, url, body=None, **extra):
    return client.post(url, body or {}, content_type="application/json", **extra)


def predict(client, slug, rows, **extra):
    return post(client, f"/api/v1/deployments/{slug}/predict", {"rows": rows}, **extra)


def rows(n=5, seed=3):
    return as_records(sample_rows("classifier", n=n, seed=seed))


def key_client(user, scopes, workspace=None):
    _, token = api_key_create(user=user, name="test", scopes=scopes, workspace=workspace)
    client = login_client(user)
    client.logout()
    return client, {"HTTP_X_PYCARET_KEY": token}


# The round trip.


def test_promote_deploy_predict_round_trip_equals_predict_model(alice, alice_client, run):
    promoted = post(alice_client, f"/api/v1/runs/{run.pk}/promote", {"name": "Cancer screening"})
    assert promoted.status_code == 201
    pipeline_id = promoted.json()["id"]

    # Reviewed and approved: the deploy needs no confirmation.
    review = post(alice_client, "/api/v1/llm/review-deployment", {"pipeline_id": pipeline_id})
    assert review.json()["verdict"].startswith("APPROVE"), review.content
    deployed = post(alice_client, f"/api/v1/pipelines/{pipeline_id}/deploy", {})
    assert deployed.status_code == 201, deployed.content
    body = deployed.json()
    assert body["slug"] == "cancer-screening"
    assert (body["pipeline_id"], body["version"]) == (pipeline_id, 1)
    assert body["url"] == "http://testserver/api/v1/deployments/cancer-screening/predict"

    client, auth = key_client(alice, ["predict"])
    frame = sample_rows("classifier", n=25)
    response = predict(client, "cancer-screening", as_records(frame), **auth)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["pipeline_id"], answer["version"], answer["ignored_columns"]) == (
        pipeline_id,
        1,
        [],
    )
    assert_equal_to_predict_model("classifier", frame, answer["predictions"])
    assert set(answer["predictions"][0]) == {"label", "score", "probabilities"}
    assert answer["warnings"] == []


def test_regression_returns_the_value(alice, alice_client):
    run = make_succeeded_run(alice, "regressor")
    pipeline = pipeline_promote(run=run, user=alice, name="progression")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    frame = sample_rows("regressor", n=10)
    answer = predict(alice_client, deployment.slug, as_records(frame)).json()
    assert_equal_to_predict_model("regressor", frame, answer["predictions"])
    first = answer["predictions"][0]
    assert first["value"] == first["label"] and isinstance(first["value"], float)


def test_text_labels_and_a_categorical_feature(alice, alice_client):
    run = make_succeeded_run(alice, "labels")
    pipeline = pipeline_promote(run=run, user=alice, name="labels")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    frame = sample_rows("labels", n=30)
    records = as_records(frame)
    records[0]["colour"] = "purple"  # unseen category, as predict_model handles it
    frame.iloc[0, frame.columns.get_loc("colour")] = "purple"
    answer = predict(alice_client, deployment.slug, records).json()
    assert_equal_to_predict_model("labels", frame, answer["predictions"])
    assert {p["label"] for p in answer["predictions"]} <= {"yes", "no"}


# Deploy and slugs.


def test_deploying_again_without_a_slug_updates_the_names_deployment(alice, run, deployment):
    v2 = pipeline_promote(run=run, user=alice, name="Cancer screening")
    again, created = deployment_deploy(pipeline=v2, user=alice, acknowledge_risks=True)
    assert not created and again.pk == deployment.pk and again.pipeline == v2
    actions = list(
        DeploymentRevision.objects.filter(deployment=deployment)
        .order_by("id")
        .values_list("action", "pipeline__version")
    )
    assert actions == [("deploy", 1), ("deploy", 2)]
    assert AuditEvent.objects.filter(action="deployment.created").count() == 1
    changed = AuditEvent.objects.get(action="deployment.changed")
    assert (changed.metadata["from_version"], changed.metadata["version"]) == (1, 2)


def test_a_slug_of_the_same_project_gets_the_new_version(alice, alice_client, run, deployment):
    v2 = pipeline_promote(run=run, user=alice, name="Another name")
    response = post(
        alice_client,
        f"/api/v1/pipelines/{v2.pk}/deploy",
        {"slug": "cancer-screening", "acknowledge_risks": True},
    )
    assert response.status_code == 201
    assert (response.json()["id"], response.json()["pipeline_id"]) == (deployment.pk, v2.pk)


def test_a_slug_taken_in_another_workspace_is_a_409_that_reveals_nothing(
    alice, bob, alice_client, deployment
):
    bobs = pipeline_promote(run=make_succeeded_run(bob, "classifier"), user=bob, name="mine")
    bob_client = login_client(bob)
    response = post(bob_client, f"/api/v1/pipelines/{bobs.pk}/deploy", {"slug": deployment.slug})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The slug 'cancer-screening' is already taken; choose another one.",
        "code": "slug_taken",
    }
    # Without a slug, bob's deployment gets a free one.
    auto = post(
        bob_client, f"/api/v1/pipelines/{bobs.pk}/deploy", {"slug": None, "acknowledge_risks": True}
    ).json()
    assert auto["slug"] == "mine"
    # Even alice's own other project cannot take it.
    other = pipeline_promote(
        run=make_succeeded_run(alice, "classifier", name="second"),
        user=alice,
        name="Cancer screening",
    )
    assert Deployment.objects.get(slug="cancer-screening").project != other.project
    second, _ = deployment_deploy(pipeline=other, user=alice, acknowledge_risks=True)
    assert second.slug == "cancer-screening-2"


@pytest.mark.parametrize("slug", ["Has Caps", "-lead", "trail-", "under_score", "x" * 81, "é"])
def test_an_invalid_slug_is_a_422(alice_client, pipeline, slug):
    response = post(alice_client, f"/api/v1/pipelines/{pipeline.pk}/deploy", {"slug": slug})
    assert response.status_code == 422
    assert not Deployment.objects.exists()


def test_only_admins_deploy(alice, charlie, pipeline):
    add_member(workspace_of(alice), charlie, Role.MEMBER)
    member = login_client(charlie)
    response = post(member, f"/api/v1/pipelines/{pipeline.pk}/deploy")
    assert response.status_code == 403
    assert member.post(reverse("pipeline_deploy", args=[pipeline.pk])).status_code == 403


# Access.


def test_bob_can_neither_deploy_nor_predict_on_alices_pipeline(bob_client, pipeline, deployment):
    assert post(bob_client, f"/api/v1/pipelines/{pipeline.pk}/deploy").status_code == 404
    response = predict(bob_client, deployment.slug, rows(1))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert bob_client.get(f"/api/v1/deployments/{deployment.slug}/drift").status_code == 404
    assert post(bob_client, f"/api/v1/deployments/{deployment.slug}/rollback").status_code == 404
    assert bob_client.get(reverse("deployment_detail", args=[deployment.slug])).status_code == 404
    assert not PredictionRequest.objects.exists()


def test_a_key_for_another_workspace_or_without_predict_scope(alice, bob, deployment):
    client, auth = key_client(alice, ["read"])
    assert predict(client, deployment.slug, rows(1), **auth).status_code == 403
    client, auth = key_client(bob, ["predict"])
    assert predict(client, deployment.slug, rows(1), **auth).status_code == 404


def test_a_viewer_cannot_predict_and_a_member_can(alice, bob, charlie, deployment):
    add_member(workspace_of(alice), charlie, Role.VIEWER)
    add_member(workspace_of(alice), bob, Role.MEMBER)
    assert predict(login_client(charlie), deployment.slug, rows(1)).status_code == 403
    assert predict(login_client(bob), deployment.slug, rows(1)).status_code == 200


# Row checks answer their statuses.


def test_a_missing_column_is_a_422_naming_it(alice_client, deployment):
    batch = rows(2)
    del batch[0]["mean radius"], batch[1]["mean radius"]
    del batch[1]["worst area"]
    response = predict(alice_client, deployment.slug, batch)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["missing_columns"] == ["mean radius", "worst area"]
    assert body["detail"].startswith("Missing columns: mean radius, worst area (in 1 of 2 rows).")


def test_a_bad_value_is_a_422_naming_the_column_and_row(alice_client, deployment):
    batch = rows(3)
    batch[2]["mean texture"] = "twelve"
    response = predict(alice_client, deployment.slug, batch)
    assert response.status_code == 422
    assert "rows[2], column 'mean texture': 'twelve' is not a number" in response.json()["detail"]
    assert response.json()["errors"] == [
        {"row": 2, "column": "mean texture", "message": "'twelve' is not a number"}
    ]


def test_too_many_rows_is_a_413(alice_client, deployment, settings):
    settings.STUDIO_MAX_PREDICT_ROWS = 3
    response = predict(alice_client, deployment.slug, rows(4))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "limit of 3" in response.json()["detail"]
    assert predict(alice_client, deployment.slug, rows(3)).status_code == 200


def test_empty_or_malformed_rows_are_422(alice_client, deployment):
    assert predict(alice_client, deployment.slug, []).status_code == 422
    assert predict(alice_client, deployment.slug, [1, 2]).status_code == 422
    response = post(alice_client, f"/api/v1/deployments/{deployment.slug}/predict", {"row": []})
    assert response.status_code == 422


def test_extra_columns_are_ignored_and_reported(alice_client, deployment):
    batch = [{**r, "customer_id": 7, "target": 1} for r in rows(2)]
    body = predict(alice_client, deployment.slug, batch).json()
    assert body["ignored_columns"] == ["customer_id", "target"]
    assert len(body["predictions"]) == 2


# Deactivate, rollback, artifact integrity.


def test_a_deactivated_deployment_answers_409_until_activated(alice_client, deployment):
    response = post(alice_client, f"/api/v1/deployments/{deployment.slug}/deactivate")
    assert response.status_code == 200 and response.json()["is_active"] is False
    refused = predict(alice_client, deployment.slug, rows(1))
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Deployment 'cancer-screening' is inactive, so it does not serve predictions. "
        "An admin can activate it again on its page.",
        "code": "inactive",
    }
    assert post(alice_client, f"/api/v1/deployments/{deployment.slug}/activate").status_code == 200
    assert predict(alice_client, deployment.slug, rows(1)).status_code == 200
    actions = [
        r["action"]
        for r in alice_client.get(f"/api/v1/deployments/{deployment.slug}/history").json()["items"]
    ]
    assert actions == ["activate", "deactivate", "deploy"]


def test_rollback_serves_the_previous_version(alice, alice_client, run, deployment):
    v2 = pipeline_promote(run=run, user=alice, name="Cancer screening")
    v3 = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment_deploy(pipeline=v2, user=alice, acknowledge_risks=True)
    deployment_deploy(pipeline=v3, user=alice, acknowledge_risks=True)
    assert predict(alice_client, deployment.slug, rows(1)).json()["version"] == 3

    url = f"/api/v1/deployments/{deployment.slug}/rollback"
    assert post(alice_client, url).json()["version"] == 2
    assert predict(alice_client, deployment.slug, rows(1)).json()["version"] == 2
    assert post(alice_client, url).json()["version"] == 1
    answer = predict(alice_client, deployment.slug, rows(1)).json()
    assert (answer["version"], answer["pipeline_id"]) == (1, deployment.pipeline_id)
    response = post(alice_client, url)
    assert response.status_code == 409
    assert response.json()["code"] == "no_previous_version"


def test_a_tampered_artifact_is_refused_with_an_audit_event(alice_client, deployment):
    path = Path(settings.MEDIA_ROOT) / deployment.pipeline.artifact_path
    original = path.read_bytes()
    path.write_bytes(original + b"\x00")
    try:
        response = predict(alice_client, deployment.slug, rows(1))
        assert response.status_code == 409
        assert response.json()["code"] == "artifact_mismatch"
        assert "does not match the sha256" in response.json()["detail"]
        assert serving.cached_sha256s() == []
        event = AuditEvent.objects.get(action="deployment.artifact_mismatch")
        assert event.target_id == str(deployment.pk)
        assert event.metadata["expected_sha256"] == deployment.pipeline.artifact_sha256
        assert PredictionRequest.objects.get().status_code == 409
    finally:
        path.write_bytes(original)
    assert predict(alice_client, deployment.slug, rows(1)).status_code == 200


# The log, stats and drift.


def test_requests_and_input_samples_are_logged(alice_client, deployment):
    predict(alice_client, deployment.slug, rows(4))
    predict(alice_client, deployment.slug, [{"nope": 1}])
    logged = list(PredictionRequest.objects.order_by("id").values_list("n_rows", "status_code"))
    assert logged == [(4, 200), (1, 422)]
    samples = PredictionSample.objects.filter(deployment=deployment)
    assert samples.count() == 4
    sample = samples.first()
    assert set(sample.inputs) == {f["name"] for f in deployment.pipeline.feature_schema}
    assert set(sample.prediction) == {"label", "score"}
    stats = alice_client.get(f"/api/v1/deployments/{deployment.slug}/stats").json()
    assert (stats["requests"], stats["rows"], stats["errors"]) == (2, 5, 1)
    assert stats["p50_ms"] > 0


def test_buffered_logs_are_written_in_one_go(alice_client, deployment, settings):
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 3600
    try:
        predict(alice_client, deployment.slug, rows(3))
        predict(alice_client, deployment.slug, rows(2))
        assert not PredictionRequest.objects.exists()
        assert prediction_log.flush() == 2
    finally:
        prediction_log.discard()
    assert sorted(PredictionRequest.objects.values_list("n_rows", flat=True)) == [2, 3]
    assert PredictionSample.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_buffer_is_flushed_by_its_thread(alice_client, deployment, settings):
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0.1
    predict(alice_client, deployment.slug, rows(4))
    deadline = time.monotonic() + 10
    while not PredictionRequest.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0
    assert PredictionRequest.objects.get().n_rows == 4
    assert PredictionSample.objects.count() == 4


def test_the_reservoir_keeps_the_newest_rows(alice_client, deployment):
    for seed in range(3):
        predict(alice_client, deployment.slug, rows(10, seed=seed))
    newest = list(PredictionSample.objects.order_by("-id").values_list("id", flat=True)[:15])
    assert samples_trim(keep=15) == 15
    assert sorted(PredictionSample.objects.values_list("id", flat=True)) == sorted(newest)


def test_drift_needs_30_rows(alice_client, deployment):
    predict(alice_client, deployment.slug, rows(29))
    body = alice_client.get(f"/api/v1/deployments/{deployment.slug}/drift").json()
    assert body["status"] == "not_enough_data"
    assert body["detail"] == "Not enough data yet: 29 of 30 rows"
    assert (body["drift_share"], body["dataset_drift"], body["features"]) == (None, None, [])
    assert body["reference_rows"] == 569


def test_drift_flags_shifted_inputs(alice_client, deployment):
    _, _, frame = trained("classifier")
    features = frame.drop(columns="target")
    shifted = features.sample(n=60, random_state=1).reset_index(drop=True)
    moved = list(shifted.columns[:20])
    shifted[moved] = shifted[moved] * 1.8  # a unit change upstream, say
    predict(alice_client, deployment.slug, as_records(shifted))
    body = alice_client.get(f"/api/v1/deployments/{deployment.slug}/drift").json()
    assert body["status"] == "ok" and body["current_rows"] == 60
    flagged = {f["name"] for f in body["features"] if f["drifted"]}
    assert set(moved) <= flagged
    assert body["dataset_drift"] is True and body["drift_share"] >= 20 / 30
    assert {f["test"] for f in body["features"]} == {"ks"}
    assert body["prediction_drift"]["test"] == "chi_square"


def test_drift_flags_nothing_for_data_from_the_training_distribution(alice_client, deployment):
    _, _, frame = trained("classifier")
    same = frame.drop(columns="target").sample(n=120, random_state=5)
    predict(alice_client, deployment.slug, as_records(same))
    body = alice_client.get(f"/api/v1/deployments/{deployment.slug}/drift").json()
    assert body["status"] == "ok"
    assert [f["name"] for f in body["features"] if f["drifted"]] == []
    assert body["dataset_drift"] is False
    assert body["prediction_drift"]["drifted"] is False


# Pages.


def test_the_deployment_page_full_and_as_a_fragment(alice_client, deployment):
    url = reverse("deployment_detail", args=[deployment.slug])
    html = alice_client.get(url).content.decode()
    assert "<html" in html
    assert 'name="feature_0"' in html and 'type="number"' in html
    assert "mean radius" in html
    assert 'id="drift-analyst-slot"' in html
    assert "Not enough data yet: 0 of 30 rows" in html
    assert 'data-testid="deployment-status">active' in html
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="deployment-body"' in fragment and "<html" not in fragment


def test_the_predict_form_returns_the_result_fragment(alice_client, deployment):
    record = rows(1)[0]
    names = [f["name"] for f in deployment.pipeline.feature_schema]
    form = {f"feature_{i}": str(record[name]) for i, name in enumerate(names)}
    url = reverse("deployment_predict", args=[deployment.slug])
    response = alice_client.post(url, form, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="predict-result"' in html and "<html" not in html
    label = predict(alice_client, deployment.slug, [record]).json()["predictions"][0]["label"]
    assert f'data-testid="prediction-label">{label}<' in html

    form["feature_1"] = "abc"
    response = alice_client.post(url, form, **HTMX)
    assert response.status_code == 422
    assert "column &#x27;mean texture&#x27;: &#x27;abc&#x27; is not a number" in (
        response.content.decode()
    )


def test_page_actions_rollback_deactivate_activate(alice, alice_client, run, deployment):
    v2 = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment_deploy(pipeline=v2, user=alice, acknowledge_risks=True)
    html = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content.decode()
    assert "Roll back to v1" in html
    response = alice_client.post(reverse("deployment_rollback", args=[deployment.slug]), **HTMX)
    assert response.status_code == 200
    assert 'id="deployment-serving"' in response.content.decode()
    assert "deploymentChanged" in response["HX-Trigger"]
    deployment.refresh_from_db()
    assert deployment.pipeline.version == 1
    response = alice_client.post(reverse("deployment_deactivate", args=[deployment.slug]))
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert not deployment.is_active
    alice_client.post(reverse("deployment_activate", args=[deployment.slug]))
    deployment.refresh_from_db()
    assert deployment.is_active


@pytest.fixture
def two_versions(alice, run, deployment):
    """The deployment serves v2 and could roll back to v1."""
    v2 = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment_deploy(pipeline=v2, user=alice, acknowledge_risks=True)
    deployment.refresh_from_db()
    return deployment


def serving_state(deployment) -> tuple:
    """What serves, whether it serves, its history, and the audit trail of changes."""
    deployment.refresh_from_db()
    changes = AuditEvent.objects.filter(action="deployment.changed").count()
    return deployment.pipeline.version, deployment.is_active, deployment.revisions.count(), changes


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("action", ["rollback", "deactivate", "activate"])
def test_members_and_viewers_cannot_change_serving(alice, charlie, two_versions, role, action):
    deployment = two_versions
    if action == "activate":
        deployment_deactivate(deployment=deployment, user=alice)
    add_member(workspace_of(alice), charlie, role)
    client = login_client(charlie)
    before = serving_state(deployment)

    response = post(client, f"/api/v1/deployments/{deployment.slug}/{action}")
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"This needs the 'deploy' permission in {workspace_of(alice).name}.",
        "code": "forbidden",
    }
    page_url = reverse(f"deployment_{action}", args=[deployment.slug])
    assert client.post(page_url).status_code == 403
    assert client.post(page_url, **HTMX).status_code == 403
    assert serving_state(deployment) == before
    # The page offers no such button to them.
    html = client.get(reverse("deployment_detail", args=[deployment.slug])).content.decode()
    assert page_url not in html
    # The same request from the owner goes through: the 403s were the role's, not the state's.
    owner = post(login_client(alice), f"/api/v1/deployments/{deployment.slug}/{action}")
    assert owner.status_code == 200
    assert serving_state(deployment) != before


def test_deploy_from_the_pipeline_page(alice_client, pipeline):
    data = {"slug": "screen", "acknowledge_risks": "1"}
    response = alice_client.post(reverse("pipeline_deploy", args=[pipeline.pk]), data, **HTMX)
    assert response["HX-Redirect"] == reverse("deployment_detail", args=["screen"])
    response = alice_client.post(
        reverse("pipeline_deploy", args=[pipeline.pk]), {"slug": "Bad Slug"}, **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="deploy-form"' in html and "not a valid slug" in html and "<html" not in html


def test_a_deactivated_deployment_page_says_so_and_the_form_answers_409(
    alice, alice_client, deployment
):
    deployment_deactivate(deployment=deployment, user=alice)
    html = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content.decode()
    assert 'data-testid="deployment-status">inactive' in html
    response = alice_client.post(reverse("deployment_predict", args=[deployment.slug]), {}, **HTMX)
    assert response.status_code == 409
    assert "is inactive" in response.content.decode()


# Batch scoring: each refusal at upload, with its status and message, and nothing stored.


def batch_csv(name: str = "to-score.csv", data: bytes | None = None) -> SimpleUploadedFile:
    """A CSV with every feature the classifier needs: acceptable, unless a test changes it."""
    if data is None:
        data = sample_rows("classifier", n=5).to_csv(index=False).encode()
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def media(settings, tmp_path):
    """A media root of the test's own (ask for it before the deployment), so "nothing stored"
    sees only this test's files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def stored_batch_files(deployment) -> list[str]:
    return list_names(batch_prefix(deployment.pk))


def test_a_batch_upload_that_passes_every_check_is_stored_and_queued(
    media, alice_client, deployment
):
    response = alice_client.post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": batch_csv()}
    )
    assert response.status_code == 202
    batch = BatchPrediction.objects.get()
    assert (batch.status, batch.input_filename) == ("queued", "to-score.csv")
    assert stored_batch_files(deployment) == [batch.input_path]
    assert (media / batch.input_path).is_file()  # the embedded default: files in MEDIA_ROOT


BATCH_REFUSALS = [
    pytest.param(
        "wrong-type",
        422,
        "bad_file",
        "'scores.xlsx' is not a CSV file; upload a .csv file.",
        id="wrong-type",
    ),
    pytest.param(
        "too-large",
        413,
        "too_large",
        "The file is larger than this studio's upload limit of 1 MB (STUDIO_MAX_UPLOAD_MB).",
        id="too-large",
    ),
    pytest.param("empty", 422, "bad_file", "The file is empty.", id="empty"),
    pytest.param(
        "inactive",
        409,
        "inactive",
        "Deployment 'cancer-screening' is inactive, so it does not serve predictions. "
        "An admin can activate it again on its page.",
        id="inactive",
    ),
    pytest.param(
        "viewer",
        403,
        "forbidden",
        "This needs the 'predict' permission in alice's workspace.",
        id="viewer",
    ),
]


@pytest.mark.parametrize("door", ["api", "page"])
@pytest.mark.parametrize(("refusal", "status", "code", "message"), BATCH_REFUSALS)
def test_a_refused_batch_upload_says_why_and_stores_nothing(
    media, settings, alice, charlie, deployment, door, refusal, status, code, message
):
    settings.STUDIO_MAX_UPLOAD_MB = 1
    client, upload = login_client(alice), batch_csv()
    if refusal == "wrong-type":
        upload = batch_csv("scores.xlsx")  # CSV content, but not a CSV's name
    elif refusal == "too-large":
        header, body = sample_rows("classifier", n=500).to_csv(index=False).encode().split(b"\n", 1)
        copies = (1 << 20) // len(body) + 1
        upload = batch_csv(data=header + b"\n" + body * copies)  # a valid CSV, just over 1 MB
        assert 1 << 20 < upload.size < 2 << 20
    elif refusal == "empty":
        upload = batch_csv(data=b"")
    elif refusal == "inactive":
        deployment_deactivate(deployment=deployment, user=alice)
    elif refusal == "viewer":
        add_member(workspace_of(alice), charlie, Role.VIEWER)
        client = login_client(charlie)

    if door == "api":
        response = client.post(f"/api/v1/deployments/{deployment.slug}/batch", {"file": upload})
        assert response.status_code == status
        assert response.json() == {"detail": message, "code": code}
    else:
        url = reverse("deployment_batches", args=[deployment.slug])
        response = client.post(url, {"file": upload}, **HTMX)
        assert response.status_code == status
        if refusal != "viewer":  # a viewer gets the plain 403 page
            fragment = html.unescape(response.content.decode())
            assert 'id="batches"' in fragment and message in fragment
    assert not BatchPrediction.objects.exists()
    assert stored_batch_files(deployment) == []


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-2e-3", "-2e-3"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_escape_cell(cell, escaped):
    assert escape_cell(cell) == escaped


def test_seed_demo_promotes_and_deploys_the_demo_run_once_it_succeeded(alice):
    from io import StringIO

    from engine.management.commands.seed_demo import DEMO_PIPELINE, Command

    run = make_succeeded_run(alice, "classifier")
    command = Command(stdout=StringIO())
    queued = make_succeeded_run(alice, "classifier", name="queued")
    queued.__class__.objects.filter(pk=queued.pk).update(status="queued")
    command._demo_deployment(queued.experiment, alice)
    assert "waiting for the demo run" in command.stdout.getvalue()
    assert not Deployment.objects.exists()

    for _ in range(2):
        command._demo_deployment(run.experiment, alice)
    deployment = Deployment.objects.get()
    assert (deployment.pipeline.name, deployment.pipeline.version) == (DEMO_PIPELINE, 1)
    assert deployment.pipeline.origin_run == run
    assert deployment.revisions.count() == 1


def test_the_drift_report_on_the_page(alice_client, deployment):
    predict(alice_client, deployment.slug, rows(40))
    html = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content.decode()
    assert 'id="drift-table"' in html
    assert '<svg class="spark drift-hist drift-reference"' in html
    assert '<svg class="spark drift-hist drift-current"' in html
    fragment = alice_client.get(reverse("deployment_drift", args=[deployment.slug]), **HTMX)
    text = fragment.content.decode()
    assert 'id="drift-report"' in text and "<html" not in text
    assert 'id="drift-analyst-slot"' in text
    stats = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content
    assert b"<dt>Requests</dt><dd>1</dd>" in stats and b"<dt>Rows</dt><dd>40</dd>" in stats


def test_the_openapi_schema_lists_the_deployment_routes(alice_client):
    paths = alice_client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/runs/{run_id}/promote",
        "/api/v1/pipelines/{pipeline_id}",
        "/api/v1/pipelines/{pipeline_id}/deploy",
        "/api/v1/deployments/{slug}/predict",
        "/api/v1/deployments/{slug}/drift",
    ):
        assert path in paths
