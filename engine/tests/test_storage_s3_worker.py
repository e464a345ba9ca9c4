"""Object storage end to end: with STUDIO_STORAGE_URL on an S3 bucket (moto in server mode,
reached over HTTP by boto3), a dataset is uploaded, a real worker process runs a compare, the
pipeline is promoted, deployed and serves predictions, and every file lives in the bucket:
nothing is written under the local media folder, of this process or of the worker."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import api_key_create
from accounts.tests.factories import login_client
from engine.models import Dataset, Run
from engine.tests.factories import breast_cancer_frame, make_project
from pycaret_studio.celery import app
from pycaret_studio.tests.support import TEST_ROOT, start_worker, stop_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

TERMINAL = ("succeeded", "failed", "cancelled")


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def empty_media(tmp_path, settings):
    """A MEDIA_ROOT that nothing may write to (not even created), for this process and its
    worker; pipeline warm-up threads off, so nothing outlives the test."""
    settings.STUDIO_SERVING_WARM_UP = False
    settings.MEDIA_ROOT = tmp_path / "media-must-stay-empty"
    return settings.MEDIA_ROOT


@pytest.fixture
def s3_worker(s3_storage, s3_worker_env, empty_media, tmp_path):
    """A worker process of this test's own, on its own queue, configured with the bucket as an
    operator would (the environment only), with its own local temp folder."""
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    queue = f"studio-s3-{uuid.uuid4().hex[:6]}"
    worker = start_worker(
        queue=queue,
        log_path=TEST_ROOT / f"worker-{queue}.log",
        extra_env={**s3_worker_env, "TMPDIR": str(worker_tmp)},
    )
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    worker.tmp = worker_tmp
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous
        stop_worker(worker)


def wait_until_finished(run_id: int, worker, timeout: float = 300) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.status in TERMINAL:
            return run
        time.sleep(0.3)
    pytest.fail(f"run {run_id} did not finish in {timeout:.0f} s\n{worker.log()[-5000:]}")


def test_upload_run_promote_deploy_predict_all_through_the_bucket(
    alice, s3_worker, s3_storage, empty_media
):
    bucket = s3_storage
    client = login_client(alice)
    project = make_project(alice, "On S3")
    frame = breast_cancer_frame()
    csv = frame.to_csv(index=False).encode()

    # Upload: the original and its Parquet copy go to the bucket.
    upload = SimpleUploadedFile("cancer.csv", csv, content_type="text/csv")
    response = client.post(f"/api/v1/projects/{project.pk}/datasets", {"file": upload})
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.get(pk=response.json()["id"])
    folder = dataset.original_path.rsplit("/", 1)[0]
    assert bucket.object_keys(f"{folder}/") == [
        f"{bucket.prefix}/{folder}/data.parquet",
        f"{bucket.prefix}/{folder}/original.csv",
    ]
    download = client.get(f"/datasets/{dataset.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == csv

    # A compare in the worker: it reads the Parquet copy from the bucket and writes the
    # pipeline and plots back to it.
    experiment = client.post(
        f"/api/v1/projects/{project.pk}/experiments",
        {
            "name": "Screening",
            "dataset_id": dataset.pk,
            "task": "classification",
            "target": "target",
            "setup": {"session_id": 123},
        },
        content_type="application/json",
    )
    assert experiment.status_code == 201, experiment.content
    submitted = client.post(
        f"/api/v1/experiments/{experiment.json()['id']}/runs",
        {"plan": {"kind": "compare", "include": ["lr", "dt"], "fold": 2}},
        content_type="application/json",
    )
    assert submitted.status_code == 202, submitted.content
    run = wait_until_finished(submitted.json()["id"], s3_worker)
    assert run.status == "succeeded", f"{run.error_message}\n{s3_worker.log()[-5000:]}"
    run_keys = bucket.object_keys(f"runs/{run.pk}/")
    assert f"{bucket.prefix}/{run.artifact_path}" in run_keys
    assert run.plots and all(
        f"{bucket.prefix}/runs/{run.pk}/{plot['filename']}" in run_keys for plot in run.plots
    )
    stored = (
        bucket.client()
        .get_object(Bucket=bucket.bucket, Key=f"{bucket.prefix}/{run.artifact_path}")["Body"]
        .read()
    )
    assert hashlib.sha256(stored).hexdigest() == run.artifact_sha256

    # A plot is streamed from the bucket.
    plot = client.get(f"/api/v1/runs/{run.pk}/plots/{run.plots[0]['name']}")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"
    assert b"".join(plot.streaming_content).startswith(b"\x89PNG")

    # Promote, deploy, and predict over the API with a key: the web process loads the
    # pipeline from the bucket, verified by its sha256.
    promoted = client.post(
        f"/api/v1/runs/{run.pk}/promote", {"name": "cancer"}, content_type="application/json"
    )
    assert promoted.status_code == 201, promoted.content
    deployed = client.post(
        f"/api/v1/pipelines/{promoted.json()['id']}/deploy",
        {"acknowledge_risks": True},
        content_type="application/json",
    )
    assert deployed.status_code == 201, deployed.content
    _, token = api_key_create(user=alice, name="s3", scopes=["predict"])
    rows = frame.drop(columns="target").head(3).to_dict("records")
    predicted = login_client(alice).post(
        f"/api/v1/deployments/{deployed.json()['slug']}/predict",
        {"rows": rows},
        content_type="application/json",
        HTTP_X_PYCARET_KEY=token,
    )
    assert predicted.status_code == 200, predicted.content
    labels = [p["label"] for p in predicted.json()["predictions"]]
    assert len(labels) == 3 and set(labels) <= {0, 1}

    pipeline_file = client.get(f"/pipelines/{promoted.json()['id']}/download/")
    assert hashlib.sha256(b"".join(pipeline_file.streaming_content)).hexdigest() == (
        run.artifact_sha256
    )

    # Nothing touched the local media folder; the worker left no run folder behind.
    assert files_under(empty_media) == []
    assert not [p for p in s3_worker.tmp.iterdir() if p.name.startswith(("run-", "fetch-"))]
