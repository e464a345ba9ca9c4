"""The engine in the admin: listed, filtered, searched and shown, never changed; and the demo
user of `seed_demo` can sign in to it."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD
from engine.models import Deployment, Pipeline, Run, RunStatus
from engine.tests.factories import breast_cancer_frame, make_dataset, make_experiment, make_project

pytestmark = pytest.mark.django_db

MODELS = ["project", "dataset", "experiment", "run", "pipeline", "deployment"]


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-admin-tests")
    client.force_login(admin)
    return client


@pytest.fixture
def chain(alice):
    """A project, dataset, experiment, run, pipeline and deployment, without training."""
    project = make_project(alice, name="Admin chain")
    dataset = make_dataset(project, breast_cancer_frame().head(60), name="cells.csv", user=alice)
    experiment = make_experiment(dataset, target="target", name="Tumours", user=alice)
    run = Run.objects.create(
        experiment=experiment,
        plan={"kind": "compare", "include": ["lr"]},
        status=RunStatus.FAILED,
        model_name="Logistic Regression",
        error_message="boom",
        created_by=alice,
    )
    pipeline = Pipeline.objects.create(
        project=project,
        name="Screening",
        version=1,
        origin_run=run,
        task="classification",
        model_id="lr",
        model_name="Logistic Regression",
        artifact_path="nowhere/model.pkl",
        promoted_by=alice,
    )
    deployment = Deployment.objects.create(
        project=project, slug="admin-screening", pipeline=pipeline, created_by=alice
    )
    return {
        "project": project,
        "dataset": dataset,
        "experiment": experiment,
        "run": run,
        "pipeline": pipeline,
        "deployment": deployment,
    }


@pytest.mark.parametrize("model", MODELS)
def test_engine_models_are_listed_searched_filtered_and_shown(admin_client, chain, model):
    obj = chain[model]
    changelist = reverse(f"admin:engine_{model}_changelist")
    link = reverse(f"admin:engine_{model}_change", args=[obj.pk])
    listing = admin_client.get(changelist)
    assert listing.status_code == 200
    assert link in listing.content.decode()
    searched = admin_client.get(changelist, {"q": "Admin chain"})  # the project's name
    assert searched.status_code == 200 and link in searched.content.decode()
    filtered = admin_client.get(changelist, {"q": "no-such-thing-xyz"})
    assert filtered.status_code == 200 and "0 results" in filtered.content.decode()
    detail = admin_client.get(reverse(f"admin:engine_{model}_change", args=[obj.pk]))
    assert detail.status_code == 200
    # Read-only: every field is shown as text, with no form to save.
    html = detail.content.decode()
    assert 'name="_save"' not in html


@pytest.mark.parametrize("model", MODELS)
def test_engine_models_cannot_be_added_changed_or_deleted(admin_client, chain, model):
    obj = chain[model]
    assert admin_client.get(reverse(f"admin:engine_{model}_add")).status_code == 403
    assert (
        admin_client.post(
            reverse(f"admin:engine_{model}_delete", args=[obj.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    changed = admin_client.post(
        reverse(f"admin:engine_{model}_change", args=[obj.pk]), {"name": "renamed"}
    )
    assert changed.status_code == 403
    listing = admin_client.post(
        reverse(f"admin:engine_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert listing.status_code in (200, 302)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_run_list_filters_by_status_and_searches_by_experiment(admin_client, chain):
    changelist = reverse("admin:engine_run_changelist")
    link = reverse("admin:engine_run_change", args=[chain["run"].pk])
    failed = admin_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert link in failed
    succeeded = admin_client.get(changelist, {"status__exact": "succeeded"}).content.decode()
    assert link not in succeeded
    found = admin_client.get(changelist, {"q": "Tumours"}).content.decode()
    assert link in found


def test_members_cannot_open_the_admin(alice_client):
    response = alice_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert alice_client.get(reverse("admin:engine_project_changelist")).status_code == 302


def test_seed_demo_user_is_a_superuser_who_signs_in_to_the_admin(client, monkeypatch):
    from engine.management.commands.seed_demo import Command

    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", PASSWORD)
    user, password = Command()._demo_user()
    assert (user.is_staff, user.is_superuser, password) == (True, True, PASSWORD)
    signed_in = client.post(
        "/admin/login/?next=/admin/", {"username": "demo", "password": PASSWORD}
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:accounts_apikey_changelist")).status_code == 200
    assert client.get(reverse("admin:engine_deployment_changelist")).status_code == 200


def test_seed_demo_promotes_an_existing_demo_user(monkeypatch):
    from engine.management.commands.seed_demo import Command

    User.objects.create_user("demo", password=PASSWORD)
    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", PASSWORD)
    user, _ = Command()._demo_user()
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser
