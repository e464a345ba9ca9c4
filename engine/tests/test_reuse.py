"""Reusing an experiment: clone it into the new-experiment form, edit it (setup only while it
has no runs), and edit a run's plan before running it again."""

import json

import pandas as pd
import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import add_member, login_client, workspace_of
from engine.models import Experiment, Run
from engine.tests.factories import HTMX, make_dataset, make_experiment, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20 + i % 50 for i in range(n)],
            "income": [1000.0 + 37 * i for i in range(n)],
            "city": ["Lyon", "Oslo", "Lima", "Rome"] * (n // 4),
            "churned": ["yes", "no"] * (n // 2),
        }
    )


@pytest.fixture
def experiment(alice):
    dataset = make_dataset(make_project(alice, "Reuse"), frame(), name="customers.csv")
    return make_experiment(
        dataset,
        target="churned",
        setup={"fold": 3, "normalize": True, "ignore_features": ["city"], "session_id": 7},
        name="Churn <b>v1</b>",
    )


def add_run(experiment, plan=None, status="failed", **fields) -> Run:
    return Run.objects.create(
        experiment=experiment,
        plan=plan or {"kind": "compare", "include": ["lr", "dt"], "fold": 2, "sort": "F1"},
        status=status,
        **fields,
    )


def api_patch(client, experiment, body, **headers):
    return client.patch(
        f"/api/v1/experiments/{experiment.pk}", json.dumps(body), "application/json", **headers
    )


# Clone.


def test_clone_opens_the_new_experiment_form_filled_in(alice_client, experiment):
    response = alice_client.get(reverse("experiment_clone", args=[experiment.pk]))
    assert response.status_code == 200
    form = response.context["experiment_form"]
    assert form["name"].value() == "Churn <b>v1</b> (copy)"
    assert form["task"].value() == "classification"
    assert form["target"].value() == "churned"
    assert form["fold"].value() == 3
    assert form["normalize"].value() is True
    assert form["ignore_features"].value() == ["city"]
    assert form["session_id"].value() == 7
    body = response.content.decode()
    assert "<html" in body and "Clone an experiment" in body
    assert "Churn &lt;b&gt;v1&lt;/b&gt; (copy)" in body and "<b>v1</b>" not in body
    # It posts to the ordinary create view of the same dataset: nothing is created yet.
    assert reverse("experiment_create", args=[experiment.dataset_id]) in body
    assert Experiment.objects.count() == 1


def test_clone_as_a_fragment(alice_client, experiment):
    response = alice_client.get(reverse("experiment_clone", args=[experiment.pk]), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="experiment-form"' in body and "<html" not in body
    assert 'data-testid="clone-note"' in body


def test_submitting_the_cloned_form_creates_the_copy(alice_client, experiment):
    page = alice_client.get(reverse("experiment_clone", args=[experiment.pk]))
    form = page.context["experiment_form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["fold"] = 4  # the person edits before creating
    response = alice_client.post(reverse("experiment_create", args=[experiment.dataset_id]), data)
    assert response.status_code == 302
    copy = Experiment.objects.exclude(pk=experiment.pk).get()
    assert copy.name == "Churn <b>v1</b> (copy)"
    assert copy.target == "churned" and copy.task == "classification"
    assert copy.setup_options == {
        "fold": 4,
        "normalize": True,
        "ignore_features": ["city"],
        "session_id": 7,
    }
    assert copy.runs.count() == 0


def test_clone_needs_write_and_hides_other_workspaces(bob, bob_client, experiment):
    url = reverse("experiment_clone", args=[experiment.pk])
    assert bob_client.get(url).status_code == 404
    add_member(workspace_of(experiment.created_by), bob, Role.VIEWER)
    assert login_client(bob).get(url).status_code == 403


def test_the_experiment_page_offers_edit_and_clone_to_writers_only(alice_client, bob, experiment):
    body = alice_client.get(reverse("experiment_detail", args=[experiment.pk])).content.decode()
    assert reverse("experiment_clone", args=[experiment.pk]) in body
    assert reverse("experiment_edit", args=[experiment.pk]) in body
    add_member(workspace_of(experiment.created_by), bob, Role.VIEWER)
    viewer = login_client(bob).get(reverse("experiment_detail", args=[experiment.pk]))
    assert reverse("experiment_clone", args=[experiment.pk]) not in viewer.content.decode()


# Edit.


def test_edit_without_runs_changes_name_description_and_setup(alice_client, experiment):
    url = reverse("experiment_edit", args=[experiment.pk])
    page = alice_client.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert 'data-testid="setup-locked"' not in page.content.decode()
    response = alice_client.post(
        url,
        {
            "name": "Churn v2",
            "description": "Drop <city>, 5 folds",
            "task": "classification",
            "target": "churned",
            "fold": 5,
        },
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.name == "Churn v2"
    assert experiment.description == "Drop <city>, 5 folds"
    assert experiment.setup_options == {"fold": 5}
    detail = alice_client.get(reverse("experiment_detail", args=[experiment.pk])).content.decode()
    assert "Drop &lt;city&gt;, 5 folds" in detail


def test_edit_refuses_a_bad_setup_in_the_fragment(alice_client, experiment):
    url = reverse("experiment_edit", args=[experiment.pk])
    response = alice_client.post(url, {"name": "x", "task": "regression", "target": "city"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="experiment-edit"' in body and "<html" not in body
    assert "Regression needs a numeric target" in body
    experiment.refresh_from_db()
    assert experiment.task == "classification" and experiment.name == "Churn <b>v1</b>"


def test_with_runs_only_name_and_description_are_editable(alice_client, experiment):
    add_run(experiment)
    url = reverse("experiment_edit", args=[experiment.pk])
    page = alice_client.get(url, **HTMX)
    body = page.content.decode()
    assert page.status_code == 200 and "<html" not in body
    assert 'data-testid="setup-locked"' in body and "1 run used them" in body
    assert 'name="fold"' not in body
    response = alice_client.post(
        url, {"name": "Renamed", "description": "notes", "fold": 9, "task": "regression"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("experiment_detail", args=[experiment.pk])
    experiment.refresh_from_db()
    assert (experiment.name, experiment.description) == ("Renamed", "notes")
    assert experiment.task == "classification" and experiment.setup_options["fold"] == 3


def test_edit_needs_write_and_hides_other_workspaces(bob, bob_client, experiment):
    url = reverse("experiment_edit", args=[experiment.pk])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {"name": "stolen"}).status_code == 404
    add_member(workspace_of(experiment.created_by), bob, Role.VIEWER)
    assert login_client(bob).post(url, {"name": "stolen"}).status_code == 403
    experiment.refresh_from_db()
    assert experiment.name == "Churn <b>v1</b>"


def test_api_patch_changes_name_and_setup_while_there_are_no_runs(alice_client, experiment):
    response = api_patch(
        alice_client, experiment, {"description": "v2", "setup": {"fold": 2}, "name": "v2"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "v2" and body["description"] == "v2"
    assert body["setup"] == {"fold": 2}
    experiment.refresh_from_db()
    assert experiment.setup_options == {"fold": 2}


def test_api_patch_of_the_setup_answers_409_once_there_are_runs(alice_client, experiment):
    add_run(experiment)
    response = api_patch(alice_client, experiment, {"setup": {"fold": 2}})
    assert response.status_code == 409
    assert response.json()["code"] == "experiment_has_runs"
    assert "Clone the experiment" in response.json()["detail"]
    assert api_patch(alice_client, experiment, {"name": "ok"}).status_code == 200


def test_api_patch_validates_and_scopes(alice_client, bob_client, experiment):
    bad = api_patch(alice_client, experiment, {"target": "nope"})
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    assert api_patch(bob_client, experiment, {"name": "stolen"}).status_code == 404
    experiment.refresh_from_db()
    assert experiment.name == "Churn <b>v1</b>"


# Edit and re-run.


def test_edit_and_rerun_fills_the_run_form_with_the_runs_plan(alice_client, experiment):
    run = add_run(experiment)
    detail = alice_client.get(reverse("run_detail", args=[run.pk])).content.decode()
    assert f'href="{reverse("run_edit", args=[run.pk])}"' in detail
    assert reverse("run_rerun", args=[run.pk]) in detail  # Re-run is still there
    page = alice_client.get(reverse("run_edit", args=[run.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "<html" in body and 'id="new-run"' in body
    form = page.context["run_form"]
    assert form["kind"].value() == "compare"
    assert form["models"].value() == ["lr", "dt"]
    assert form["fold"].value() == 2 and form["sort"].value() == "F1"
    assert 'data-testid="plan-leftovers"' not in body
    assert experiment.runs.count() == 1  # opening the form runs nothing


def test_edit_and_rerun_as_a_fragment(alice_client, experiment):
    run = add_run(experiment, plan={"kind": "tune", "model_id": "dt", "n_iter": 4})
    response = alice_client.get(reverse("run_edit", args=[run.pk]), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="new-run"' in body and "<html" not in body
    assert '<option value="tune" selected>' in body and 'name="n_iter" value="4"' in body


def test_the_edited_plan_is_submitted_as_a_new_run(alice_client, experiment):
    run = add_run(experiment)
    response = alice_client.post(
        reverse("run_create", args=[experiment.pk]),
        {"kind": "compare", "models": ["lr"], "fold": 3, "sort": "F1"},
    )
    new = experiment.runs.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{new.pk}/"
    assert new.plan["include"] == ["lr"] and new.plan["fold"] == 3
    assert new.status == "queued"


def test_edit_and_rerun_names_what_the_form_cannot_carry(alice_client, experiment):
    run = add_run(experiment, plan={"kind": "compare", "exclude": ["svm"], "fold": 2})
    body = alice_client.get(reverse("run_edit", args=[run.pk])).content.decode()
    assert 'data-testid="plan-leftovers"' in body and "carry exclude" in body


def test_edit_and_rerun_needs_train_and_hides_other_workspaces(bob, bob_client, experiment):
    run = add_run(experiment)
    url = reverse("run_edit", args=[run.pk])
    assert bob_client.get(url).status_code == 404
    add_member(workspace_of(experiment.created_by), bob, Role.VIEWER)
    viewer = login_client(bob)
    assert viewer.get(url).status_code == 403
    assert url not in viewer.get(reverse("run_detail", args=[run.pk])).content.decode()


def test_plan_initial_round_trips_through_the_form():
    from engine.forms import RunPlanForm, plan_initial

    plans = [
        {"kind": "compare", "include": ["lr", "dt"], "fold": 2, "sort": "AUC", "n_select": 2},
        {"kind": "create", "model_id": "kmeans", "num_clusters": 3},
        {"kind": "tune", "model_id": "dt", "n_iter": 5, "optimize": "F1"},
        {"kind": "ensemble", "model_id": "dt", "method": "Boosting", "n_estimators": 5},
        {"kind": "blend", "model_ids": ["lr", "dt"]},
        {"kind": "setup"},
    ]
    for plan in plans:
        task = "clustering" if plan.get("model_id") == "kmeans" else "classification"
        initial = plan_initial(plan)
        form = RunPlanForm(task=task, data={k: v for k, v in initial.items()})
        assert form.is_valid(), (plan, form.errors)
        assert form.to_plan() == plan


def test_the_diagnosis_apply_fills_the_same_form_and_names_what_it_cannot_carry(
    alice, alice_client, experiment
):
    from copilots.models import Consultation

    run = add_run(experiment, plan={"kind": "compare", "include": ["zzz"]})
    consultation = Consultation.objects.create(
        type="failure_debugging",
        workspace=workspace_of(alice),
        experiment=experiment,
        run=run,
        advice={"suggested_config": {"plan": {"kind": "compare", "exclude": ["svm"], "fold": 2}}},
    )
    url = reverse("copilots:plan_apply", args=[consultation.pk])
    page = alice_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and 'id="new-run"' in body
    assert page.context["run_form"]["fold"].value() == 2
    assert 'data-testid="plan-leftovers"' in body and "from the suggested plan" in body
    assert experiment.runs.count() == 1  # applying runs nothing
