"""Per-workspace quotas on runs and storage: past one, a 429 or 413 that names the quota and
its setting, on the API and on the pages, and nothing is left behind."""

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine.models import Dataset, Experiment, Run, RunStatus
from engine.quotas import MB
from engine.tests.factories import HTMX, csv_bytes, make_dataset, make_project

pytestmark = pytest.mark.django_db

FRAME = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def experiment(alice, media) -> Experiment:
    dataset = make_dataset(make_project(alice), FRAME)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )


def submit(client, experiment):
    return client.post(
        f"/api/v1/experiments/{experiment.pk}/runs",
        {"plan": {"kind": "setup"}},
        content_type="application/json",
    )


def test_the_defaults_are_on():
    from django.conf import settings

    assert settings.STUDIO_QUOTA_ACTIVE_RUNS > 0
    assert settings.STUDIO_QUOTA_STORAGE_MB > 0
    assert settings.STUDIO_QUOTA_COPILOT_CALLS_PER_DAY > 0


def test_runs_past_the_active_quota_get_429_naming_it(alice_client, experiment, settings):
    settings.STUDIO_QUOTA_ACTIVE_RUNS = 2
    Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status=RunStatus.RUNNING)
    assert submit(alice_client, experiment).status_code == 202
    refused = submit(alice_client, experiment)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "quota_exceeded"
    assert body["quota"] == "STUDIO_QUOTA_ACTIVE_RUNS"
    assert "STUDIO_QUOTA_ACTIVE_RUNS" in body["detail"] and "2" in body["detail"]
    assert Run.objects.filter(experiment=experiment).count() == 2
    # A finished run frees its place.
    Run.objects.filter(status=RunStatus.RUNNING).update(status=RunStatus.SUCCEEDED)
    assert submit(alice_client, experiment).status_code == 202


def test_the_run_form_shows_the_quota(alice_client, experiment, settings):
    settings.STUDIO_QUOTA_ACTIVE_RUNS = 1
    Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status=RunStatus.QUEUED)
    url = reverse("run_create", args=[experiment.pk])
    fragment = alice_client.post(url, {"kind": "setup"}, **HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 429
    assert "STUDIO_QUOTA_ACTIVE_RUNS" in html and "<html" not in html
    full = alice_client.post(url, {"kind": "setup"})
    assert full.status_code == 429 and "STUDIO_QUOTA_ACTIVE_RUNS" in full.content.decode()
    assert Run.objects.filter(experiment=experiment).count() == 1


def test_rerun_past_the_quota_says_so(alice_client, experiment, settings):
    settings.STUDIO_QUOTA_ACTIVE_RUNS = 1
    done = Run.objects.create(
        experiment=experiment, plan={"kind": "setup"}, status=RunStatus.SUCCEEDED
    )
    Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status=RunStatus.QUEUED)
    api = alice_client.post(f"/api/v1/runs/{done.pk}/rerun")
    assert (api.status_code, api.json()["code"]) == (429, "quota_exceeded")
    page = alice_client.post(reverse("run_rerun", args=[done.pk]), **HTMX)
    assert page.status_code == 429
    assert "STUDIO_QUOTA_ACTIVE_RUNS" in page.content.decode()
    assert Run.objects.filter(experiment=experiment).count() == 2


def files_under(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_uploads_past_the_storage_quota_get_413_and_leave_nothing(
    alice_client, alice, media, settings
):
    project = make_project(alice)
    make_dataset(project, FRAME)
    settings.STUDIO_QUOTA_STORAGE_MB = 1
    Dataset.objects.filter(project=project).update(size_bytes=MB - 100)
    before = files_under(media)
    data = csv_bytes(FRAME)
    response = alice_client.post(
        f"/api/v1/projects/{project.pk}/datasets", {"file": SimpleUploadedFile("more.csv", data)}
    )
    assert response.status_code == 413
    body = response.json()
    assert (body["code"], body["quota"]) == ("quota_exceeded", "STUDIO_QUOTA_STORAGE_MB")
    assert "STUDIO_QUOTA_STORAGE_MB" in body["detail"]
    assert Dataset.objects.filter(project=project).count() == 1
    assert files_under(media) == before
    page = alice_client.post(
        reverse("dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("more.csv", data)},
        **HTMX,
    )
    assert page.status_code == 413
    assert "STUDIO_QUOTA_STORAGE_MB" in page.content.decode()
    assert files_under(media) == before


def test_storage_is_counted_per_workspace(alice, bob, media, settings):
    make_dataset(make_project(alice), FRAME)
    settings.STUDIO_QUOTA_STORAGE_MB = 1
    Dataset.objects.update(size_bytes=MB)
    assert make_dataset(make_project(bob), FRAME).pk


def test_a_zero_quota_is_off(alice_client, experiment, settings):
    settings.STUDIO_QUOTA_ACTIVE_RUNS = 0
    for _ in range(3):
        Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status=RunStatus.QUEUED)
    assert submit(alice_client, experiment).status_code == 202
