"""Projects: services, the API and the pages (dashboard, project page, rename, delete)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.services import workspace_create
from accounts.tests.factories import add_member, login_client, workspace_of
from engine.errors import InvalidInput
from engine.models import Dataset, Project, Run
from engine.services.projects import project_create, project_delete, project_update
from engine.tests.factories import (
    HTMX,
    breast_cancer_frame,
    make_dataset,
    make_experiment,
    make_project,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def viewer_client(alice, charlie):
    """charlie, a viewer in alice's workspace."""
    add_member(workspace_of(alice), charlie, Role.VIEWER)
    return login_client(charlie)


# Services.


def test_project_create_trims_and_refuses_a_duplicate_name_case_insensitively(alice):
    project = project_create(workspace=workspace_of(alice), name="  Churn ", user=alice)
    assert project.name == "Churn"
    assert project.created_by == alice
    with pytest.raises(InvalidInput) as caught:
        project_create(workspace=workspace_of(alice), name="churn", user=alice)
    assert "already exists" in caught.value.fields["name"][0][0]
    assert Project.objects.count() == 1


def test_the_same_name_is_fine_in_another_workspace(alice, bob):
    make_project(alice, "Churn")
    assert make_project(bob, "Churn").workspace == workspace_of(bob)


def test_project_update_renames_and_refuses_a_clash(alice):
    churn = make_project(alice, "Churn")
    make_project(alice, "Fraud")
    assert project_update(project=churn, name="Retention", user=alice).name == "Retention"
    with pytest.raises(InvalidInput):
        project_update(project=churn, name="fraud", user=alice)
    churn.refresh_from_db()
    assert churn.name == "Retention"


def test_project_delete_removes_datasets_experiments_and_files(
    alice, media, django_capture_on_commit_callbacks
):
    project = make_project(alice)
    dataset = make_dataset(project, breast_cancer_frame())
    make_experiment(dataset)
    folder = media / dataset.original_path.rsplit("/", 1)[0]
    assert folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project, user=alice)
    assert not Project.objects.exists()
    assert not Dataset.objects.exists()
    assert not folder.exists()


# Deleting a project that has been promoted and deployed.


@pytest.fixture
def deployed(alice, media, settings):
    """A project with every kind of row and file under it, and another project beside it."""
    from django.utils import timezone

    from copilots.models import Consultation
    from engine.models import (
        BatchPrediction,
        PredictionRequest,
        PredictionSample,
        RunEvent,
        RunStatus,
    )
    from engine.services.deployments import deployment_deploy
    from engine.services.pipelines import pipeline_promote
    from engine.storage import batch_prefix, run_prefix

    settings.STUDIO_SERVING_WARM_UP = False
    project = make_project(alice, "Churn")
    dataset = make_dataset(project, breast_cancer_frame(), user=alice)
    experiment = make_experiment(dataset, target="target", user=alice)
    run = Run.objects.create(
        experiment=experiment,
        plan={"kind": "create", "model_id": "lr"},
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        model_id="lr",
        artifact_path="",
        artifact_sha256="b" * 64,
        created_by=alice,
    )
    folder = media / run_prefix(run.pk)
    folder.mkdir(parents=True)
    (folder / "pipeline.pkl").write_bytes(b"not really a pipeline")
    (folder / "auc.png").write_bytes(b"plot")
    run.artifact_path = f"{run_prefix(run.pk)}/pipeline.pkl"
    run.save()
    RunEvent.objects.create(run=run, seq=1, message="finished")
    pipeline = pipeline_promote(run=run, user=alice, name="churn-model")
    deployment, _ = deployment_deploy(
        acknowledge_risks=True, pipeline=pipeline, user=alice, slug="churn-live"
    )
    PredictionRequest.objects.create(deployment=deployment, n_rows=1)
    PredictionSample.objects.create(deployment=deployment, inputs={"a": 1})
    batches = media / batch_prefix(deployment.pk)
    batches.mkdir(parents=True)
    (batches / "in.csv").write_text("a\n1\n")
    (batches / "in-predictions.csv").write_text("a,label\n1,0\n")
    BatchPrediction.objects.create(
        deployment=deployment,
        pipeline=pipeline,
        status=RunStatus.SUCCEEDED,
        input_filename="in.csv",
        input_path=f"{batch_prefix(deployment.pk)}/in.csv",
        output_path=f"{batch_prefix(deployment.pk)}/in-predictions.csv",
        created_by=alice,
    )
    for links in ({"dataset": dataset}, {"run": run}, {"pipeline": pipeline}):
        Consultation.objects.create(
            type="dataset_analysis", workspace=project.workspace, project=project, **links
        )
    Consultation.objects.create(
        type="drift_analysis", workspace=project.workspace, deployment=deployment
    )
    other = make_project(alice, "Fraud")
    other_dataset = make_dataset(other, breast_cancer_frame(), user=alice)
    return {
        "project": project,
        "deployment": deployment,
        "folders": [
            media / dataset.original_path.rsplit("/", 1)[0],
            folder,
            batches,
        ],
        "other": other,
        "other_folder": media / other_dataset.original_path.rsplit("/", 1)[0],
    }


def assert_everything_under_it_is_gone(deployed) -> None:
    from accounts.models import AuditEvent
    from copilots.models import Consultation
    from engine.models import (
        BatchPrediction,
        Deployment,
        DeploymentRevision,
        Experiment,
        Pipeline,
        PredictionRequest,
        PredictionSample,
        RunEvent,
    )

    assert list(Project.objects.values_list("name", flat=True)) == ["Fraud"]
    for model in (Experiment, Run, RunEvent, Pipeline, Deployment, DeploymentRevision):
        assert not model.objects.exists(), model.__name__
    for model in (PredictionRequest, PredictionSample, BatchPrediction, Consultation):
        assert not model.objects.exists(), model.__name__
    assert list(Dataset.objects.values_list("project", flat=True)) == [deployed["other"].pk]
    for folder in deployed["folders"]:
        assert not folder.exists(), folder
    assert deployed["other_folder"].is_dir()
    event = AuditEvent.objects.get(action="project.deleted")
    assert event.target_id == str(deployed["project"].pk)
    assert event.metadata["name"] == "Churn"
    assert event.metadata["deactivated"] == ["churn-live"]
    assert (event.metadata["pipelines"], event.metadata["runs"]) == (1, 1)


def test_deleting_a_deployed_project_through_the_api_removes_everything_under_it(
    alice_client, deployed, django_capture_on_commit_callbacks
):
    project = deployed["project"]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.delete(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 204
    assert_everything_under_it_is_gone(deployed)
    predict = alice_client.post(
        "/api/v1/deployments/churn-live/predict", {"rows": [{}]}, content_type="application/json"
    )
    assert predict.status_code == 404


def test_deleting_a_deployed_project_from_its_page(
    alice_client, deployed, django_capture_on_commit_callbacks
):
    project = deployed["project"]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("project_delete", args=[project.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert_everything_under_it_is_gone(deployed)
    assert "Project “Churn” deleted." in alice_client.get(reverse("dashboard")).content.decode()


def test_a_member_cannot_take_live_deployments_down_by_deleting_the_project(alice, bob, deployed):
    from engine.models import Deployment
    from engine.services.deployments import deployment_deactivate

    add_member(workspace_of(alice), bob, Role.MEMBER)
    project = deployed["project"]
    response = login_client(bob).delete(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 403
    assert "deploy" in response.json()["detail"]
    assert Deployment.objects.get(slug="churn-live").is_active
    deployment_deactivate(deployment=deployed["deployment"], user=alice)
    assert login_client(bob).delete(f"/api/v1/projects/{project.pk}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


# API.


def test_api_create_defaults_to_the_first_workspace(alice_client, alice):
    response = alice_client.post(
        "/api/v1/projects", {"name": "Churn", "description": "Who leaves?"}, "application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Churn"
    assert body["description"] == "Who leaves?"
    assert body["workspace_id"] == workspace_of(alice).pk
    assert body["n_datasets"] == 0
    assert Project.objects.get(pk=body["id"]).created_by == alice


def test_api_duplicate_name_is_409_with_a_clear_message(alice_client, alice):
    make_project(alice, "Churn")
    response = alice_client.post("/api/v1/projects", {"name": "Churn"}, "application/json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A project named “Churn” already exists in alice's workspace.",
        "code": "duplicate_name",
    }


def test_api_blank_name_is_422(alice_client):
    response = alice_client.post("/api/v1/projects", {"name": "   "}, "application/json")
    assert response.status_code == 422
    assert "needs a name" in response.json()["detail"]


def test_api_list_get_rename_delete(alice_client, alice, bob):
    project = make_project(alice, "Churn")
    make_project(bob, "Bob's own")
    listed = alice_client.get("/api/v1/projects").json()["items"]
    assert [p["name"] for p in listed] == ["Churn"]
    assert alice_client.get(f"/api/v1/projects/{project.pk}").json()["name"] == "Churn"
    renamed = alice_client.patch(
        f"/api/v1/projects/{project.pk}", {"name": "Retention"}, "application/json"
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Retention"
    assert alice_client.delete(f"/api/v1/projects/{project.pk}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


def test_api_create_in_a_named_workspace(alice_client, alice):
    # Not alice's default (her personal workspace, the first): only workspace_id puts it here.
    team = workspace_create(name="Team", owner=alice)
    assert workspace_of(alice) != team
    response = alice_client.post(
        "/api/v1/projects", {"name": "Churn", "workspace_id": team.pk}, "application/json"
    )
    assert response.status_code == 201
    assert response.json()["workspace_id"] == team.pk
    project = Project.objects.get(pk=response.json()["id"])
    assert project.workspace == team
    assert not Project.objects.filter(workspace=workspace_of(alice)).exists()


def test_bob_gets_404_on_alices_projects(bob_client, alice):
    project = make_project(alice)
    url = f"/api/v1/projects/{project.pk}"
    assert bob_client.get(url).status_code == 404
    assert bob_client.patch(url, {"name": "Mine"}, "application/json").status_code == 404
    assert bob_client.delete(url).status_code == 404
    assert bob_client.get("/api/v1/projects").json()["items"] == []
    create = bob_client.post(
        "/api/v1/projects",
        {"name": "Sneaky", "workspace_id": workspace_of(alice).pk},
        "application/json",
    )
    assert create.status_code == 404
    assert Project.objects.get(pk=project.pk).name == "Churn"
    assert not Project.objects.filter(name="Sneaky").exists()


def test_a_viewer_can_read_but_not_write(viewer_client, alice):
    project = make_project(alice)
    assert viewer_client.get(f"/api/v1/projects/{project.pk}").status_code == 200
    response = viewer_client.patch(
        f"/api/v1/projects/{project.pk}", {"name": "X"}, "application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    create = viewer_client.post(
        "/api/v1/projects",
        {"name": "X", "workspace_id": workspace_of(alice).pk},
        "application/json",
    )
    assert create.status_code == 403


# Pages.


def test_dashboard_lists_projects_and_recent_runs(alice_client, alice):
    project = make_project(alice, "Churn")
    experiment = make_experiment(make_dataset(project, breast_cancer_frame()), name="First try")
    Run.objects.create(experiment=experiment, plan={"kind": "compare"})
    page = alice_client.get(reverse("dashboard"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" in html
    assert reverse("project_detail", args=[project.pk]) in html
    assert 'id="recent-runs"' in html
    assert "First try" in html
    assert "compare" in html


def test_dashboard_fragment_for_htmx(alice_client, alice):
    make_project(alice, "Churn")
    html = alice_client.get(reverse("dashboard"), **HTMX).content.decode()
    assert 'id="projects"' in html
    assert "Churn" in html
    assert "<html" not in html


def test_create_project_from_the_dashboard(alice_client, alice):
    response = alice_client.post(reverse("project_create"), {"name": "Churn"})
    project = Project.objects.get(name="Churn")
    assert response.status_code == 302
    assert response["Location"] == reverse("project_detail", args=[project.pk])
    assert project.workspace == workspace_of(alice)


def test_create_project_with_htmx_returns_the_list_with_the_new_project(alice_client):
    response = alice_client.post(reverse("project_create"), {"name": "Churn"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="projects"' in html
    project = Project.objects.get(name="Churn")
    assert reverse("project_detail", args=[project.pk]) in html
    assert "<html" not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_duplicate_project_name_on_the_page_is_422_inline(alice_client, alice, htmx):
    make_project(alice, "Churn")
    response = alice_client.post(
        reverse("project_create"), {"name": "Churn"}, **(HTMX if htmx else {})
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "already exists" in html
    assert ("<html" in html) is not htmx
    assert Project.objects.count() == 1


def test_project_page_full_and_fragment(alice_client, alice):
    project = make_project(alice, "Churn")
    make_dataset(project, breast_cancer_frame(), name="cancer.csv")
    url = reverse("project_detail", args=[project.pk])
    full = alice_client.get(url).content.decode()
    assert "<html" in full
    assert 'id="dataset-upload"' in full
    assert "cancer.csv" in full
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="project-body"' in fragment
    assert "cancer.csv" in fragment
    assert "<html" not in fragment


def test_rename_project_page_and_htmx(alice_client, alice):
    project = make_project(alice, "Churn")
    url = reverse("project_rename", args=[project.pk])
    response = alice_client.post(url, {"name": "Retention"})
    assert response.status_code == 302
    response = alice_client.post(url, {"name": "Attrition"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="project-head"' in html
    assert "Attrition" in html
    assert "<html" not in html
    project.refresh_from_db()
    assert project.name == "Attrition"


def test_rename_to_a_taken_name_is_422_inline(alice_client, alice):
    project = make_project(alice, "Churn")
    make_project(alice, "Fraud")
    response = alice_client.post(
        reverse("project_rename", args=[project.pk]), {"name": "Fraud"}, **HTMX
    )
    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Churn"


def test_delete_project_page(alice_client, alice):
    project = make_project(alice)
    response = alice_client.post(reverse("project_delete", args=[project.pk]), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("dashboard")
    assert not Project.objects.exists()


def test_bob_gets_404_on_alices_project_pages(bob_client, alice):
    project = make_project(alice)
    assert bob_client.get(reverse("project_detail", args=[project.pk])).status_code == 404
    assert (
        bob_client.post(reverse("project_rename", args=[project.pk]), {"name": "X"}).status_code
        == 404
    )
    assert bob_client.post(reverse("project_delete", args=[project.pk])).status_code == 404
    assert Project.objects.filter(pk=project.pk, name="Churn").exists()


def test_a_viewer_sees_the_project_without_write_controls(viewer_client, alice):
    project = make_project(alice)
    html = viewer_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    assert "Churn" in html
    assert 'id="dataset-upload"' not in html
    assert "Delete project" not in html
    assert viewer_client.post(reverse("project_delete", args=[project.pk])).status_code == 403
