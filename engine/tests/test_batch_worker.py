"""Batch CSV scoring through a real Celery worker process, the configured broker and database."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import login_client
from engine.models import BatchPrediction
from engine.tests.factories import as_records, make_deployment, sample_rows

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.worker,
    pytest.mark.filterwarnings("ignore"),
]

TERMINAL = ("succeeded", "failed")
NOTES = ['=HYPERLINK("http://x")', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "fine", ""]


@pytest.fixture
def deployment(alice):
    return make_deployment(alice, name="Screening")


def csv_upload(frame, name="to-score.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode(), content_type="text/csv")


def wait_for_batch(batch_id: int, worker, timeout: float = 180) -> BatchPrediction:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = BatchPrediction.objects.get(pk=batch_id)
        if batch.status in TERMINAL:
            return batch
        time.sleep(0.3)
    pytest.fail(f"batch {batch_id} did not finish:\n{worker.log()[-5000:]}")


def test_a_csv_is_scored_by_the_worker_and_formula_cells_come_back_escaped(
    celery_worker, alice, deployment
):
    client = login_client(alice)
    frame = sample_rows("classifier", n=45, seed=8).reset_index(drop=True)
    frame.loc[0, "mean texture"] = -1.5  # a legitimate negative number stays a number
    frame.insert(0, "note", [NOTES[i % len(NOTES)] for i in range(len(frame))])

    response = client.post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": csv_upload(frame)}
    )
    assert response.status_code == 202, response.content
    submitted = response.json()
    assert submitted["status"] == "queued" and submitted["download_url"] is None

    batch = wait_for_batch(submitted["id"], celery_worker)
    assert batch.status == "succeeded", batch.error_message
    assert (batch.n_rows, batch.progress_done, batch.progress_total) == (45, 45, 45)

    polled = client.get(f"/api/v1/batch-predictions/{batch.pk}").json()
    assert polled["download_url"] == reverse("batch_download", args=[batch.pk])
    download = client.get(polled["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    text = b"".join(download.streaming_content).decode()
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    assert header == [*frame.columns, "prediction_label", "prediction_score"]
    assert len(body) == 45
    notes = [row[0] for row in body[: len(NOTES)]]
    assert notes == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "fine",
        "",
    ]
    assert body[0][header.index("mean texture")] == "-1.5"

    # The same rows through the predict endpoint give the same answers.
    records = as_records(frame.drop(columns="note"))
    answer = client.post(
        f"/api/v1/deployments/{deployment.slug}/predict",
        {"rows": records},
        content_type="application/json",
    ).json()
    labels = [int(row[-2]) for row in body]
    scores = [float(row[-1]) for row in body]
    assert labels == [p["label"] for p in answer["predictions"]]
    assert scores == pytest.approx([p["score"] for p in answer["predictions"]], abs=1e-12)


def test_a_bad_cell_fails_the_batch_naming_line_and_column(celery_worker, alice, deployment):
    client = login_client(alice)
    frame = sample_rows("classifier", n=5).reset_index(drop=True)
    frame["mean area"] = frame["mean area"].astype(object)
    frame.loc[3, "mean area"] = "lots"
    response = client.post(
        reverse("deployment_batches", args=[deployment.slug]),
        {"file": csv_upload(frame)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="batches"' in response.content.decode()
    batch = wait_for_batch(BatchPrediction.objects.get().pk, celery_worker)
    assert batch.status == "failed"
    assert "Line 5, column 'mean area': 'lots' is not a number" in batch.error_message
    page = client.get(reverse("deployment_batches", args=[deployment.slug]), HTTP_HX_REQUEST="true")
    assert page.status_code == 286  # nothing left to poll for
    assert "is not a number" in page.content.decode()


def test_a_file_without_the_features_is_refused_at_upload(alice, bob, deployment):
    client = login_client(alice)
    frame = sample_rows("classifier", n=5).drop(columns=["mean radius"])
    response = client.post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": csv_upload(frame)}
    )
    assert response.status_code == 422
    assert response.json()["missing_columns"] == ["mean radius"]
    assert not BatchPrediction.objects.exists()
    bob_client = login_client(bob)
    response = bob_client.post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": csv_upload(frame)}
    )
    assert response.status_code == 404


def test_only_the_workspace_can_download(celery_worker, alice, bob, deployment):
    client = login_client(alice)
    frame = sample_rows("classifier", n=3)
    submitted = client.post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": csv_upload(frame)}
    ).json()
    batch = wait_for_batch(submitted["id"], celery_worker)
    assert batch.status == "succeeded"
    bob_client = login_client(bob)
    assert bob_client.get(reverse("batch_download", args=[batch.pk])).status_code == 404
    assert bob_client.get(f"/api/v1/batch-predictions/{batch.pk}").status_code == 404
