"""The web process on object storage (STORAGES["default"] on a moto S3 bucket, over HTTP): an
upload, its download and deletion, a run's plot, a deployment's page and a batch scored and
downloaded all read and write the bucket, and a file missing from it is a 404, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine import serving, storage
from engine.models import BatchPrediction, Dataset
from engine.services.batches import batch_execute
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import (
    breast_cancer_frame,
    make_project,
    make_succeeded_run,
    sample_rows,
    trained,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path):
    """This test's own corner of the bucket as the default storage, and a MEDIA_ROOT of its own
    that must stay empty."""
    trained("classifier")  # the session's trained pipeline, made before media moves
    corner = s3_endpoint.at(f"views-{tmp_path.name}")
    settings.STORAGES = corner.storages_setting(settings.STORAGES)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STUDIO_SERVING_WARM_UP = False
    serving.cache_clear()
    yield corner
    serving.cache_clear()


def local_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_is_stored_in_the_bucket_downloaded_from_it_and_deleted_from_it(
    bucket, settings, alice, alice_client, django_capture_on_commit_callbacks
):
    project = make_project(alice, "Bucketed")
    data = breast_cancer_frame().head(60).to_csv(index=False).encode()
    upload = SimpleUploadedFile("cancer.csv", data, content_type="text/csv")
    response = alice_client.post(f"/api/v1/projects/{project.pk}/datasets", {"file": upload})
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.get(pk=response.json()["id"])
    folder = storage.dataset_prefix(dataset)
    assert bucket.object_keys(folder + "/") == [
        f"{bucket.prefix}/{folder}/data.parquet",
        f"{bucket.prefix}/{folder}/original.csv",
    ]
    download = alice_client.get(f"/datasets/{dataset.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="cancer.csv"')
    assert b"".join(download.streaming_content) == data
    # The dataset page reads the class counts of its target from the Parquet copy.
    page = alice_client.get(f"/datasets/{dataset.pk}/")
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        deleted = alice_client.delete(f"/api/v1/datasets/{dataset.pk}")
    assert deleted.status_code == 204
    assert bucket.object_keys(folder + "/") == []
    assert local_files(settings) == []


def test_a_failed_upload_leaves_nothing_in_the_bucket(bucket, settings, alice, alice_client):
    project = make_project(alice, "Refused")
    upload = SimpleUploadedFile("empty.csv", b"", content_type="text/csv")
    response = alice_client.post(f"/api/v1/projects/{project.pk}/datasets", {"file": upload})
    assert response.status_code in (413, 422)
    assert bucket.object_keys() == []
    assert not Dataset.objects.exists()


def test_a_plot_streams_from_the_bucket_and_a_missing_one_is_a_404(bucket, alice, alice_client):
    run = make_succeeded_run(alice, "classifier")
    name = run.plots[0]["name"]
    assert f"{bucket.prefix}/runs/{run.pk}/{run.plots[0]['filename']}" in bucket.object_keys()
    for url in (f"/runs/{run.pk}/plots/{name}.png", f"/api/v1/runs/{run.pk}/plots/{name}"):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    storage.artifact_storage().delete(f"runs/{run.pk}/{run.plots[0]['filename']}")
    assert alice_client.get(f"/api/v1/runs/{run.pk}/plots/{name}").status_code == 404
    assert alice_client.get(f"/runs/{run.pk}/plots/{name}.png").status_code == 404


def test_a_batch_is_scored_from_and_to_the_bucket(bucket, settings, alice, alice_client):
    run = make_succeeded_run(alice, "classifier")
    pipeline = pipeline_promote(run=run, user=alice, name="Screening")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    page = alice_client.get(f"/deployments/{deployment.slug}/")
    assert page.status_code == 200  # its example row is read from the Parquet copy in the bucket
    rows = sample_rows("classifier", n=7).to_csv(index=False).encode()
    upload = SimpleUploadedFile("score.csv", rows, content_type="text/csv")
    response = alice_client.post(f"/api/v1/deployments/{deployment.slug}/batch", {"file": upload})
    assert response.status_code == 202, response.content
    batch = BatchPrediction.objects.get(pk=response.json()["id"])
    assert bucket.object_keys(f"batch/{deployment.pk}/") == [f"{bucket.prefix}/{batch.input_path}"]
    assert batch_execute(batch_id=batch.pk) == "succeeded"
    batch.refresh_from_db()
    assert f"{bucket.prefix}/{batch.output_path}" in bucket.object_keys(f"batch/{deployment.pk}/")
    download = alice_client.get(f"/api/v1/batch-predictions/{batch.pk}/download")
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert len(lines) == 8 and lines[0].endswith("prediction_label,prediction_score")
    assert local_files(settings) == []


def test_a_pipeline_missing_from_the_bucket_is_a_clear_409_not_a_500(bucket, alice, alice_client):
    from accounts.services import api_key_create

    run = make_succeeded_run(alice, "classifier")
    pipeline = pipeline_promote(run=run, user=alice, name="Gone")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    storage.delete_prefix(storage.run_prefix(run.pk))
    _, token = api_key_create(user=alice, name="gone", scopes=["predict"])
    rows = sample_rows("classifier", n=1).to_dict("records")
    response = alice_client.post(
        f"/api/v1/deployments/{deployment.slug}/predict",
        {"rows": rows},
        content_type="application/json",
        HTTP_X_PYCARET_KEY=token,
    )
    assert response.status_code == 409
    assert "missing" in response.json()["detail"]


def test_the_copilot_evaluation_never_writes_to_the_studios_bucket(bucket):
    """Its throwaway uploads go to a local storage of its own, whatever the studio's is."""
    from copilots.evals import CASES
    from copilots.evals.harness import run_cases

    case = next(c for c in CASES if c.copilot == "dataset_analysis")
    [result], _ = run_cases([case])
    assert result.error == "" and result.misses == []
    assert bucket.object_keys() == []
    assert storage.artifact_storage().__class__.__name__ == "S3Storage"  # restored after


@pytest.fixture
def unreachable(settings):
    """A function switching the default storage to a bucket whose endpoint refuses connections
    (a closed port on 127.0.0.1), with no retries so the refusal is immediate."""
    import socket

    from botocore.config import Config

    def switch():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {"AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_DEFAULT_REGION": "us-east-1"}
        from pycaret_studio.storage_url import storage_from_url

        default = storage_from_url("s3://unreachable-bucket/x", env)
        default["OPTIONS"] |= {
            "access_key": "a",
            "secret_key": "b",
            "client_config": Config(signature_version="s3v4", retries={"total_max_attempts": 1}),
        }
        settings.STORAGES = {**settings.STORAGES, "default": default}

    return switch


def test_a_storage_out_of_reach_is_a_503_never_a_500(
    bucket, alice, alice_client, unreachable, settings
):
    project = make_project(alice, "Outage")
    data = breast_cancer_frame().head(30).to_csv(index=False).encode()
    stored = alice_client.post(
        f"/api/v1/projects/{project.pk}/datasets", {"file": SimpleUploadedFile("a.csv", data)}
    )
    assert stored.status_code == 201
    unreachable()
    response = alice_client.post(
        f"/api/v1/projects/{project.pk}/datasets", {"file": SimpleUploadedFile("b.csv", data)}
    )
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert Dataset.objects.count() == 1  # no row for the upload that could not be stored
    download = alice_client.get(f"/datasets/{stored.json()['id']}/download/")
    assert download.status_code == 503
    assert "could not be reached" in download.content.decode()
