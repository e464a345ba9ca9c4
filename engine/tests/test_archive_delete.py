"""Archive, restore and delete datasets, experiments and runs: lists hide what is archived,
deletion asks first, removes the files once it commits, and is refused (409, saying why) while a
run is active, a live deployment depends on a run, or experiments use a dataset."""

import json

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from accounts.tests.factories import add_member, login_client, workspace_of
from engine import storage
from engine.models import (
    Dataset,
    Deployment,
    DeploymentRevision,
    Experiment,
    Pipeline,
    Run,
    RunEvent,
)
from engine.tests.factories import HTMX, make_dataset, make_experiment, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def frame(n: int = 24) -> pd.DataFrame:
    return pd.DataFrame({"x": [float(i) for i in range(n)], "y": ["a", "b"] * (n // 2)})


@pytest.fixture
def dataset(alice):
    return make_dataset(make_project(alice, "Tidy"), frame(), name="tidy.csv")


@pytest.fixture
def experiment(dataset):
    return make_experiment(dataset, target="y", name="Tidy exp")


def add_run(experiment, status="succeeded") -> Run:
    run = Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status=status)
    RunEvent.objects.create(run=run, seq=1, message="started")
    storage.save_bytes(storage.run_file(run.pk, "model.pkl"), b"not really a model")
    return run


def deploy(run, slug, *, active=True) -> Deployment:
    """A pipeline promoted from `run` and a deployment of it (rows only: nothing is served)."""
    project = run.experiment.project
    version = Pipeline.objects.filter(project=project, name="p").count() + 1
    pipeline = Pipeline.objects.create(
        project=project,
        name="p",
        version=version,
        origin_run=run,
        task="classification",
        model_id="lr",
        artifact_path=f"runs/{run.pk}/model.pkl",
        artifact_sha256="0" * 64,
    )
    deployment = Deployment.objects.create(
        project=project, slug=slug, pipeline=pipeline, is_active=active
    )
    DeploymentRevision.objects.create(deployment=deployment, pipeline=pipeline, action="deploy")
    storage.save_bytes(f"{storage.batch_prefix(deployment.pk)}/in.csv", b"a\n1\n")
    return deployment


def api(client, method, url, **headers):
    return getattr(client, method)(url, content_type="application/json", **headers)


# Archive and restore.


def test_archiving_a_dataset_hides_it_from_the_project_page_until_restored(alice_client, dataset):
    project_url = reverse("project_detail", args=[dataset.project_id])
    response = alice_client.post(reverse("dataset_archive", args=[dataset.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dataset_detail", args=[dataset.pk])
    dataset.refresh_from_db()
    assert dataset.archived_at is not None
    page = alice_client.get(project_url).content.decode()
    assert reverse("dataset_detail", args=[dataset.pk]) not in page
    assert "Show archived (1)" in page
    shown = alice_client.get(project_url + "?archived=1", **HTMX).content.decode()
    assert "<html" not in shown and 'id="project-body"' in shown
    assert reverse("dataset_detail", args=[dataset.pk]) in shown and "badge-archived" in shown
    detail = alice_client.get(reverse("dataset_detail", args=[dataset.pk])).content.decode()
    assert 'data-testid="archived-banner"' in detail
    assert reverse("dataset_restore", args=[dataset.pk]) in detail
    restored = alice_client.post(reverse("dataset_restore", args=[dataset.pk]), **HTMX)
    assert restored["HX-Redirect"] == reverse("dataset_detail", args=[dataset.pk])
    dataset.refresh_from_db()
    assert dataset.archived_at is None
    assert (
        reverse("dataset_detail", args=[dataset.pk])
        in alice_client.get(project_url).content.decode()
    )


def test_archived_runs_leave_the_experiment_page_and_its_fragment(alice_client, experiment):
    kept, archived = add_run(experiment), add_run(experiment)
    assert alice_client.post(reverse("run_archive", args=[archived.pk])).status_code == 302
    page = alice_client.get(reverse("experiment_detail", args=[experiment.pk])).content.decode()
    assert f'data-run-id="{kept.pk}"' in page and f'data-run-id="{archived.pk}"' not in page
    assert "Show archived (1)" in page
    fragment = alice_client.get(reverse("experiment_runs", args=[experiment.pk]), **HTMX)
    assert f'data-run-id="{archived.pk}"' not in fragment.content.decode()
    both = alice_client.get(
        reverse("experiment_runs", args=[experiment.pk]) + "?archived=1", **HTMX
    ).content.decode()
    assert f'data-run-id="{archived.pk}"' in both and "archived=1" in both  # polling keeps it


def test_the_api_lists_hide_archived_items_unless_asked(alice_client, experiment):
    run = add_run(experiment)
    project = experiment.project
    for url in (
        f"/api/v1/experiments/{experiment.pk}/archive",
        f"/api/v1/runs/{run.pk}/archive",
        f"/api/v1/datasets/{experiment.dataset_id}/archive",
    ):
        response = api(alice_client, "post", url)
        assert response.status_code == 200 and response.json()["archived_at"], url
    lists = {
        f"/api/v1/projects/{project.pk}/experiments": experiment.pk,
        f"/api/v1/experiments/{experiment.pk}/runs": run.pk,
        f"/api/v1/projects/{project.pk}/datasets": experiment.dataset_id,
    }
    for url, pk in lists.items():
        assert alice_client.get(url).json() == {"items": [], "count": 0, "next": None}, url
        listed = alice_client.get(url + "?archived=true").json()["items"]
        assert [item["id"] for item in listed] == [pk]
    restored = api(alice_client, "post", f"/api/v1/runs/{run.pk}/restore")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert AuditEvent.objects.filter(action="run.restored").exists()


def test_the_dashboard_leaves_out_archived_runs_and_the_runs_of_archived_experiments(
    alice, alice_client, experiment
):
    shown, hidden = add_run(experiment), add_run(experiment)
    Run.objects.filter(pk=hidden.pk).update(archived_at=timezone.now())
    other = make_experiment(experiment.dataset, target="y", name="Shelved", user=alice)
    shelved = add_run(other)
    Experiment.objects.filter(pk=other.pk).update(archived_at=timezone.now())
    body = alice_client.get(reverse("dashboard")).content.decode()
    assert f'href="/runs/{shown.pk}/"' in body
    assert f'href="/runs/{hidden.pk}/"' not in body
    assert f'href="/runs/{shelved.pk}/"' not in body


# Delete: the confirmation, then the rows and the files.


def test_deleting_a_run_asks_first_then_removes_rows_and_files(
    alice_client, experiment, django_capture_on_commit_callbacks, settings
):
    run = add_run(experiment)
    deployment = deploy(run, "old-endpoint", active=False)
    url = reverse("run_delete", args=[run.pk])
    confirm = alice_client.get(url)
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "<html" in body
    assert "p v1" in body and "old-endpoint" in body  # what goes with it, named
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="delete-confirm"' in fragment and "<html" not in fragment
    assert 'hx-confirm="Delete Run' in fragment
    assert Run.objects.filter(pk=run.pk).exists()  # asking deleted nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url, **HTMX)
    assert response["HX-Redirect"] == reverse("experiment_detail", args=[experiment.pk])
    assert not Run.objects.filter(pk=run.pk).exists()
    assert not RunEvent.objects.filter(run_id=run.pk).exists()
    assert (
        not Pipeline.objects.exists() and not Deployment.objects.filter(pk=deployment.pk).exists()
    )
    assert storage.list_names(storage.run_prefix(run.pk)) == []
    assert storage.list_names(storage.batch_prefix(deployment.pk)) == []
    assert not (settings.MEDIA_ROOT / storage.run_prefix(run.pk)).exists()  # no empty folder
    assert AuditEvent.objects.filter(action="run.deleted", target_id=str(run.pk)).exists()


def test_a_running_run_cannot_be_deleted(alice_client, experiment):
    run = add_run(experiment, status="running")
    response = api(alice_client, "delete", f"/api/v1/runs/{run.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "run_active"
    assert "cancel it first" in response.json()["detail"]
    page = alice_client.post(reverse("run_delete", args=[run.pk]), **HTMX)
    assert page.status_code == 409 and "cancel it first" in page.content.decode()
    assert Run.objects.filter(pk=run.pk).exists()
    assert storage.list_names(storage.run_prefix(run.pk)) == [f"runs/{run.pk}/model.pkl"]


def test_a_live_deployment_blocks_deleting_its_run_and_experiment(alice_client, experiment):
    run = add_run(experiment)
    deployment = deploy(run, "live-endpoint")
    for url in (f"/api/v1/runs/{run.pk}", f"/api/v1/experiments/{experiment.pk}"):
        response = api(alice_client, "delete", url)
        assert response.status_code == 409, url
        assert response.json()["code"] == "deployment_depends"
        assert "“live-endpoint”" in response.json()["detail"]
    confirm = alice_client.get(reverse("experiment_delete", args=[experiment.pk])).content.decode()
    assert 'data-testid="delete-blockers"' in confirm and "live-endpoint" in confirm
    assert "Deactivate it first" in confirm and 'hx-confirm="Delete' not in confirm
    page = alice_client.post(reverse("experiment_delete", args=[experiment.pk]))
    assert page.status_code == 409 and "live-endpoint" in page.content.decode()
    assert Run.objects.filter(pk=run.pk).exists() and Experiment.objects.exists()
    # Once deactivated, the deployment goes with them.
    Deployment.objects.filter(pk=deployment.pk).update(is_active=False)
    assert api(alice_client, "delete", f"/api/v1/experiments/{experiment.pk}").status_code == 204
    assert not Experiment.objects.exists() and not Run.objects.exists()
    assert not Deployment.objects.exists()


def test_a_rollback_target_of_a_live_deployment_blocks_too(alice_client, experiment):
    old, new = add_run(experiment), add_run(experiment)
    deployment = deploy(old, "rolling")
    newer = deploy(new, "other")
    DeploymentRevision.objects.create(deployment=deployment, pipeline=newer.pipeline)
    Deployment.objects.filter(pk=deployment.pk).update(pipeline=newer.pipeline)
    Deployment.objects.filter(pk=newer.pk).update(is_active=False)
    response = api(alice_client, "delete", f"/api/v1/runs/{old.pk}")
    assert response.status_code == 409
    assert "“rolling” keeps a pipeline promoted from it" in response.json()["detail"]


def test_a_dataset_in_use_names_its_experiments_and_stays(
    alice_client, experiment, django_capture_on_commit_callbacks
):
    dataset = experiment.dataset
    folder = storage.dataset_prefix(dataset)
    response = api(alice_client, "delete", f"/api/v1/datasets/{dataset.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "dataset_in_use"
    assert "Tidy exp" in response.json()["detail"]
    confirm = alice_client.get(reverse("dataset_delete", args=[dataset.pk]), **HTMX)
    assert "Tidy exp" in confirm.content.decode()
    assert len(storage.list_names(folder)) == 2  # the original and the Parquet copy
    assert api(alice_client, "delete", f"/api/v1/experiments/{experiment.pk}").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("dataset_delete", args=[dataset.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("project_detail", args=[dataset.project_id])
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert storage.list_names(folder) == []


# Who may.


def test_a_viewer_can_neither_archive_nor_delete(bob, experiment):
    run = add_run(experiment)
    add_member(workspace_of(experiment.created_by), bob, Role.VIEWER)
    viewer = login_client(bob)
    page = viewer.get(reverse("run_detail", args=[run.pk])).content.decode()
    assert 'data-testid="delete-link"' not in page
    assert viewer.get(reverse("run_delete", args=[run.pk])).status_code == 403
    assert viewer.post(reverse("experiment_delete", args=[experiment.pk])).status_code == 403
    assert viewer.post(reverse("dataset_archive", args=[experiment.dataset_id])).status_code == 403
    assert api(viewer, "delete", f"/api/v1/runs/{run.pk}").status_code == 403
    assert api(viewer, "post", f"/api/v1/experiments/{experiment.pk}/archive").status_code == 403
    assert Run.objects.filter(pk=run.pk, archived_at=None).exists()
    assert Experiment.objects.filter(archived_at=None).exists()


def test_another_workspace_gets_404_everywhere(bob_client, experiment):
    run = add_run(experiment)
    targets = {"dataset": experiment.dataset_id, "experiment": experiment.pk, "run": run.pk}
    for kind, pk in targets.items():
        for action in ("archive", "restore", "delete"):
            url = reverse(f"{kind}_{action}", args=[pk])
            assert bob_client.post(url).status_code == 404, url
        assert bob_client.get(reverse(f"{kind}_delete", args=[pk])).status_code == 404
        plural = f"/api/v1/{kind}s/{pk}"
        assert api(bob_client, "delete", plural).status_code == 404, plural
        for action in ("archive", "restore"):
            response = api(bob_client, "post", f"{plural}/{action}")
            assert response.status_code == 404 and json.loads(response.content)["code"]
    assert Run.objects.filter(pk=run.pk, archived_at=None).exists()
