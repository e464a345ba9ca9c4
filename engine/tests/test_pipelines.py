"""Pipelines: promoting a run (service, API, page) and the pipeline page."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role
from accounts.tests.factories import add_member, login_client, workspace_of
from engine.errors import StudioError
from engine.models import Pipeline, Run, RunStatus
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import HTMX, make_succeeded_run

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture
def run(alice):
    return make_succeeded_run(alice, "classifier")


def promote(client, run, **body):
    return client.post(f"/api/v1/runs/{run.pk}/promote", body, content_type="application/json")


def member_client(owner, user, role):
    add_member(workspace_of(owner), user, role)
    return login_client(user)


# Promote.


def test_promote_creates_version_1_with_the_runs_model_and_snapshot(alice, alice_client, run):
    response = promote(alice_client, run, name="Cancer screening")
    assert response.status_code == 201, response.content
    body = response.json()
    pipeline = Pipeline.objects.get(pk=body["id"])
    assert {k: body[k] for k in ("name", "version", "origin_run_id", "model_id")} == {
        "name": "Cancer screening",
        "version": 1,
        "origin_run_id": run.pk,
        "model_id": "lr",
    }
    assert body["metrics"] == run.metrics and body["metrics"]["Accuracy"] > 0.8
    assert pipeline.feature_schema == run.feature_schema
    assert pipeline.target_classes == [0, 1]
    assert (pipeline.artifact_path, pipeline.artifact_sha256) == (
        run.artifact_path,
        run.artifact_sha256,
    )
    assert pipeline.promoted_by == alice
    event = AuditEvent.objects.get(action="pipeline.promoted")
    assert (event.actor, event.target_id, event.metadata["version"]) == (alice, str(pipeline.pk), 1)


def test_versions_count_up_per_name_in_the_project(alice, alice_client, run):
    versions = [promote(alice_client, run, name="screening").json()["version"] for _ in range(3)]
    assert versions == [1, 2, 3]
    assert promote(alice_client, run, name="other").json()["version"] == 1
    # Without a name, the experiment's name.
    body = promote(alice_client, run).json()
    assert (body["name"], body["version"]) == (run.experiment.name, 1)


def test_the_snapshot_does_not_follow_later_changes_to_the_run(alice, run):
    pipeline = pipeline_promote(run=run, user=alice, name="x")
    Run.objects.filter(pk=run.pk).update(metrics={"Accuracy": 0.1})
    pipeline.refresh_from_db()
    assert pipeline.metrics["Accuracy"] > 0.8


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.FAILED, RunStatus.QUEUED])
def test_only_a_succeeded_run_can_be_promoted(alice_client, run, status):
    Run.objects.filter(pk=run.pk).update(status=status)
    response = promote(alice_client, run)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Run {run.pk} has status {status}; only a succeeded run can be promoted.",
        "code": "conflict",
    }
    assert not Pipeline.objects.exists()


def test_a_run_without_an_artifact_cannot_be_promoted(alice, run):
    Run.objects.filter(pk=run.pk).update(artifact_path="", artifact_sha256="")
    run.refresh_from_db()
    with pytest.raises(StudioError) as caught:
        pipeline_promote(run=run, user=alice)
    assert caught.value.status == 400
    assert "no trained pipeline" in caught.value.message


def test_a_too_long_name_is_a_422(alice_client, run):
    response = promote(alice_client, run, name="x" * 201)
    assert response.status_code == 422


def test_bob_cannot_promote_or_see_alices_run_or_pipeline(alice, bob_client, run):
    assert promote(bob_client, run).status_code == 404
    pipeline = pipeline_promote(run=run, user=alice)
    assert bob_client.get(f"/api/v1/pipelines/{pipeline.pk}").status_code == 404
    assert bob_client.get(reverse("pipeline_detail", args=[pipeline.pk])).status_code == 404


def test_a_viewer_cannot_promote(alice, charlie, run):
    viewer = member_client(alice, charlie, Role.VIEWER)
    assert promote(viewer, run).status_code == 403
    assert viewer.post(reverse("run_promote", args=[run.pk])).status_code == 403


def test_get_and_list_pipelines(alice, alice_client, run):
    pipeline = pipeline_promote(run=run, user=alice, name="screening")
    body = alice_client.get(f"/api/v1/pipelines/{pipeline.pk}").json()
    assert body["id"] == pipeline.pk and body["promoted_by"] == "alice"
    assert body["url"] == reverse("pipeline_detail", args=[pipeline.pk])
    assert len(body["feature_schema"]) == 30
    listed = alice_client.get(f"/api/v1/projects/{pipeline.project_id}/pipelines").json()["items"]
    assert [p["id"] for p in listed] == [pipeline.pk]


# Pages.


def test_the_promote_form_redirects_to_the_new_pipeline(alice_client, run):
    response = alice_client.post(reverse("run_promote", args=[run.pk]), {"name": "Screening"})
    pipeline = Pipeline.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pipeline_detail", args=[pipeline.pk])
    response = alice_client.post(reverse("run_promote", args=[run.pk]), {"name": ""}, **HTMX)
    assert response.status_code == 200
    second = Pipeline.objects.get(name=run.experiment.name)
    assert response["HX-Redirect"] == reverse("pipeline_detail", args=[second.pk])


def test_the_promote_form_shows_why_it_cannot(alice_client, run):
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    response = alice_client.post(reverse("run_promote", args=[run.pk]), **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="promote-form"' in html and "<html" not in html
    assert "only a succeeded run can be promoted" in html


def test_the_pipeline_page_full_and_as_a_fragment(alice, alice_client, run):
    first = pipeline_promote(run=run, user=alice, name="screening")
    pipeline = pipeline_promote(run=run, user=alice, name="screening")
    url = reverse("pipeline_detail", args=[pipeline.pk])
    html = alice_client.get(url).content.decode()
    assert "<html" in html
    assert "screening" in html and "v2" in html
    assert reverse("run_detail", args=[run.pk]) in html  # origin run
    assert 'id="pipeline-metrics"' in html and "Accuracy" in html
    assert 'id="model-params"' in html and "max_iter" in html  # LogisticRegression's params
    assert reverse("run_plot", args=[run.pk, "auc"]) in html
    assert reverse("pipeline_detail", args=[first.pk]) in html  # the versions list
    assert 'id="review-slot"' in html
    assert 'data-testid="deploy-button"' in html
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="pipeline-body"' in fragment and "<html" not in fragment
    assert "max_iter" in fragment


def test_a_member_sees_the_pipeline_but_no_deploy_form(alice, charlie, run):
    member = member_client(alice, charlie, Role.MEMBER)
    pipeline = pipeline_promote(run=run, user=alice)
    html = member.get(reverse("pipeline_detail", args=[pipeline.pk])).content.decode()
    assert 'data-testid="deploy-button"' not in html
    assert "Deploying needs the admin role" in html


def test_the_project_pipelines_page(alice, alice_client, run):
    pipeline = pipeline_promote(run=run, user=alice, name="screening")
    url = reverse("project_pipelines", args=[pipeline.project_id])
    html = alice_client.get(url).content.decode()
    assert reverse("pipeline_detail", args=[pipeline.pk]) in html and "<html" in html
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="pipelines-body"' in fragment and "<html" not in fragment


def test_names_are_escaped_on_the_pages(alice, alice_client, run):
    pipeline = pipeline_promote(run=run, user=alice, name="<script>alert(1)</script>")
    html = alice_client.get(reverse("pipeline_detail", args=[pipeline.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
