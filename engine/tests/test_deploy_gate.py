"""The deploy gate: a pipeline its latest review did not approve (DO NOT DEPLOY, or no review)
deploys only after a confirmation that names the risks, and its history says so."""

import importlib.metadata

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.factories import login_client
from copilots.services import consult
from engine.models import Deployment, DeploymentRevision
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import HTMX, make_succeeded_run

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture
def pipeline(alice):
    return pipeline_promote(
        run=make_succeeded_run(alice, "classifier"), user=alice, name="Cancer screening"
    )


def deploy(client, pipeline, body=None):
    return client.post(
        f"/api/v1/pipelines/{pipeline.pk}/deploy", body or {}, content_type="application/json"
    )


def reviewed_do_not_deploy(pipeline, user):
    """A real (offline) review that says DO NOT DEPLOY: the run was trained with another
    PyCaret, which the serving process may not load."""
    run = pipeline.origin_run
    run.environment = {**run.environment, "pycaret": "3.2.0"}
    run.save(update_fields=["environment"])
    review = consult(type="deployment_review", obj=pipeline, user=user)
    assert review.advice["verdict"].startswith("DO NOT DEPLOY: version skew: pycaret")
    return review


def test_an_unreviewed_pipeline_needs_a_confirmation_naming_the_checks(alice_client, pipeline):
    refused = deploy(alice_client, pipeline)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "confirmation_required" and body["reason"] == "not_reviewed"
    assert body["detail"].startswith("Cancer screening v1 has not been reviewed")
    assert "acknowledge_risks" in body["detail"]
    assert body["verdict"].startswith("APPROVE")  # what the rule book's checks would say
    assert not Deployment.objects.exists()

    deployed = deploy(alice_client, pipeline, {"acknowledge_risks": True})
    assert deployed.status_code == 201
    revision = DeploymentRevision.objects.get()
    assert revision.warning.startswith("Cancer screening v1 has not been reviewed")
    history = alice_client.get(f"/api/v1/deployments/{deployed.json()['slug']}/history").json()[
        "items"
    ]
    assert history[0]["warning"] == revision.warning
    created = AuditEvent.objects.get(action="deployment.created")
    assert created.metadata["over_warning"] is True


def test_an_approved_pipeline_deploys_as_before(alice, alice_client, pipeline):
    review = consult(type="deployment_review", obj=pipeline, user=alice)
    assert review.advice["verdict"].startswith("APPROVE")
    deployed = deploy(alice_client, pipeline)  # an existing client's request, unchanged
    assert deployed.status_code == 201
    assert DeploymentRevision.objects.get().warning == ""
    history = alice_client.get(f"/api/v1/deployments/{deployed.json()['slug']}/history").json()[
        "items"
    ]
    assert history[0]["warning"] is None


def test_do_not_deploy_names_the_reviews_risks_until_a_newer_review_approves(
    alice, alice_client, pipeline
):
    review = reviewed_do_not_deploy(pipeline, alice)
    refused = deploy(alice_client, pipeline)
    assert refused.status_code == 409
    body = refused.json()
    assert (body["reason"], body["consultation_id"]) == ("do_not_deploy", review.pk)
    assert body["verdict"] == review.advice["verdict"]
    assert [r["name"] for r in body["risks"]] == ["version skew: pycaret"]
    assert body["detail"].startswith("The latest review of Cancer screening v1 said DO NOT DEPLOY")

    # Retrained under the serving versions and reviewed again: the newest review counts.
    run = pipeline.origin_run
    run.environment = {**run.environment, "pycaret": importlib.metadata.version("pycaret")}
    run.save(update_fields=["environment"])
    assert consult(type="deployment_review", obj=pipeline, user=alice).advice["verdict"] == (
        "APPROVE"
    )
    assert deploy(alice_client, pipeline).status_code == 201


def test_the_page_asks_to_confirm_then_records_the_warning(alice, alice_client, pipeline):
    reviewed_do_not_deploy(pipeline, alice)
    url = reverse("pipeline_deploy", args=[pipeline.pk])
    page = alice_client.get(reverse("pipeline_detail", args=[pipeline.pk])).content.decode()
    assert 'data-testid="latest-review"' in page and "text-danger-500" in page

    fragment = alice_client.post(url, {"slug": "screen"}, **HTMX)
    assert fragment.status_code == 409
    html = fragment.content.decode()
    assert 'id="deploy-form"' in html and "<html" not in html
    assert 'data-testid="deploy-confirm"' in html and "The latest review said DO NOT DEPLOY" in html
    assert "version skew: pycaret" in html
    assert 'name="acknowledge_risks" value="1"' in html and 'name="slug" value="screen"' in html
    full = alice_client.post(url, {"slug": "screen"})
    assert full.status_code == 409 and "<html" in full.content.decode()
    assert 'data-testid="deploy-confirm"' in full.content.decode()
    assert not Deployment.objects.exists()

    confirmed = alice_client.post(url, {"slug": "screen", "acknowledge_risks": "1"}, **HTMX)
    assert confirmed["HX-Redirect"] == reverse("deployment_detail", args=["screen"])
    detail = alice_client.get(reverse("deployment_detail", args=["screen"])).content.decode()
    assert 'data-testid="deployed-over-warning"' in detail
    assert "deployed over a warning: The latest review of Cancer screening v1 said DO NOT" in (
        detail
    )


def test_the_unreviewed_page_says_so_before_deploying(alice_client, pipeline):
    page = alice_client.get(reverse("pipeline_detail", args=[pipeline.pk])).content.decode()
    assert "Not reviewed yet: deploying will ask you to confirm." in page
    html = alice_client.post(
        reverse("pipeline_deploy", args=[pipeline.pk]), {}, **HTMX
    ).content.decode()
    assert "This pipeline has not been reviewed." in html


def test_a_taken_slug_is_refused_before_any_confirmation(alice, bob, bob_client, pipeline):
    assert deploy(login_client(alice), pipeline, {"acknowledge_risks": True}).status_code == 201
    bobs = pipeline_promote(run=make_succeeded_run(bob, "classifier"), user=bob, name="mine")
    refused = deploy(bob_client, bobs, {"slug": "cancer-screening"})
    assert (refused.status_code, refused.json()["code"]) == (409, "slug_taken")
