"""Experiments: validation against the dataset, warnings, the API and the pages."""

import html

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from engine.errors import InvalidInput
from engine.models import Experiment
from engine.services.experiments import experiment_create
from engine.tests.factories import (
    HTMX,
    breast_cancer_frame,
    make_dataset,
    make_experiment,
    make_project,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def mixed_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 10_000, n).round(2),
            "city": rng.choice(["Lyon", "Oslo", "Lima"], n),
            "signup": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "churned": rng.choice(["yes", "no"], n),
        }
    )


@pytest.fixture
def project(alice):
    return make_project(alice, "Churn")


@pytest.fixture
def dataset(project):
    return make_dataset(project, mixed_frame(), name="customers.csv")


def api_create(client, project, **payload):
    return client.post(f"/api/v1/projects/{project.pk}/experiments", payload, "application/json")


# Validation: each bad setting is refused with a message that names the culprit.

INVALID = [
    pytest.param(
        {"target": "nope"},
        "unknown_column",
        "Target column 'nope' is not in the dataset",
        id="unknown-target",
    ),
    pytest.param({"target": None}, "required", "needs a target column", id="no-target"),
    pytest.param(
        {"task": "forecasting"}, "unknown_task", "Unknown task 'forecasting'", id="unknown-task"
    ),
    pytest.param(
        {"setup": {"folds": 5}},
        "unknown_option",
        "Unknown setup option 'folds'",
        id="unknown-option",
    ),
    pytest.param(
        {"setup": {"ignore_features": ["ghost"]}},
        "unknown_column",
        "ignore_features names 'ghost'",
        id="unknown-column-in-option",
    ),
    pytest.param(
        {"setup": {"date_features": ["signup", "when"]}},
        "unknown_column",
        "date_features names 'when'",
        id="one-unknown-of-two",
    ),
    pytest.param(
        {"setup": {"ignore_features": ["churned"]}},
        "invalid",
        "must not include the target column 'churned'",
        id="target-ignored",
    ),
    pytest.param({"setup": {"fold": 1}}, "invalid_option", "fold:", id="fold-too-small"),
    pytest.param({"setup": {"train_size": 1.5}}, "invalid_option", "train_size:", id="train-size"),
    pytest.param(
        {"setup": {"normalize_method": "log"}},
        "invalid_option",
        "normalize_method:",
        id="bad-choice",
    ),
    pytest.param(
        {"setup": {"numeric_features": ["age"], "categorical_features": ["age"]}},
        "invalid_option",
        "'age' is named in both",
        id="overlapping-roles",
    ),
    pytest.param(
        {"task": "regression", "target": "city"},
        "target_not_numeric",
        "Regression needs a numeric target, but 'city' is categorical",
        id="regression-on-text",
    ),
    pytest.param({"name": "  "}, "required", "needs a name", id="blank-name"),
]


@pytest.mark.parametrize(("change", "code", "message"), INVALID)
def test_the_api_refuses_invalid_settings_naming_the_problem(
    alice_client, project, dataset, change, code, message
):
    payload = {
        "name": "e1",
        "dataset_id": dataset.pk,
        "task": "classification",
        "target": "churned",
    }
    payload.update(change)
    response = api_create(alice_client, project, **payload)
    assert response.status_code == 422
    body = response.json()
    assert message in body["detail"]
    assert body["code"] == code
    assert not Experiment.objects.exists()


def test_every_problem_is_reported_at_once(project, dataset, alice):
    with pytest.raises(InvalidInput) as caught:
        experiment_create(
            project=project,
            dataset=dataset,
            name="",
            task="classification",
            target="nope",
            setup={"folds": 3, "ignore_features": ["ghost"]},
            user=alice,
        )
    assert set(caught.value.fields) == {"name", "target", "setup"}


def test_a_valid_experiment_keeps_only_the_options_given(alice_client, project, dataset):
    response = api_create(
        alice_client,
        project,
        name="First",
        dataset_id=dataset.pk,
        task="classification",
        target="churned",
        setup={"fold": 5, "session_id": 42, "ignore_features": ["signup"], "normalize": True},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["setup"] == {
        "fold": 5,
        "session_id": 42,
        "ignore_features": ["signup"],
        "normalize": True,
    }
    assert (body["task"], body["target"], body["dataset_id"]) == (
        "classification",
        "churned",
        dataset.pk,
    )
    assert body["warnings"] == []
    assert body["n_runs"] == 0
    again = alice_client.get(f"/api/v1/experiments/{body['id']}").json()
    assert again == body
    listed = alice_client.get(f"/api/v1/projects/{project.pk}/experiments").json()["items"]
    assert [e["id"] for e in listed] == [body["id"]]


def test_regression_on_a_numeric_target(alice_client, project, dataset):
    response = api_create(
        alice_client,
        project,
        name="Income",
        dataset_id=dataset.pk,
        task="regression",
        target="income",
    )
    assert response.status_code == 201, response.json()


def test_a_dataset_of_another_project_is_refused(alice_client, alice, project):
    other = make_dataset(make_project(alice, "Other"), mixed_frame())
    response = api_create(
        alice_client,
        project,
        name="x",
        dataset_id=other.pk,
        task="classification",
        target="churned",
    )
    assert response.status_code == 422
    assert "belongs to another project" in response.json()["detail"]


# Warnings: stored and shown, but they do not block.


def test_many_classes_warn_but_do_not_block(project):
    frame = pd.DataFrame({"x": range(600), "label": [f"c{i % 60}" for i in range(600)]})
    experiment = make_experiment(make_dataset(project, frame), target="label")
    assert any("60 classes (more than 50)" in w for w in experiment.warnings)


def test_the_rule_books_task_inference_warns_of_a_task_that_does_not_fit(project):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": range(300), "price": rng.normal(100, 20, 300).round(2)})
    frame["grade"] = rng.integers(1, 4, 300)
    dataset = make_dataset(project, frame, name="mixed_targets.csv")
    continuous = make_experiment(dataset, target="price", name="price as classes")
    assert continuous.warnings[0].startswith(
        "The target 'price' looks continuous (292 distinct numeric values): use a regression "
        "experiment"
    )
    assert not any("more than 50" in w for w in continuous.warnings)  # one warning, not two
    grades = make_experiment(dataset, task="regression", target="grade", name="grade as numbers")
    assert grades.warnings == [
        "The target 'grade' has only 3 distinct values, like class labels: a classification "
        "experiment may fit it better."
    ]
    assert make_experiment(dataset, task="regression", target="price", name="ok").warnings == []


def test_a_class_smaller_than_fold_warns(project):
    frame = pd.DataFrame({"x": range(40), "label": ["a"] * 34 + ["b"] * 3 + ["c"] * 3})
    dataset = make_dataset(project, frame)
    experiment = make_experiment(dataset, target="label")
    assert experiment.warnings == [
        "2 class(es) of 'label' have fewer rows than fold=10: 'b' (3 rows), 'c' (3 rows). "
        "Stratified cross-validation may fail; lower fold or merge rare classes."
    ]
    assert make_experiment(dataset, target="label", setup={"fold": 3}).warnings == []


def test_class_counts_come_from_the_parquet_copy_for_a_numeric_target(project):
    # An integer 0/1 target has no top values in the profile; its counts come from Parquet.
    frame = breast_cancer_frame()
    frame.loc[:4, "target"] = 2  # a third class of five rows
    experiment = make_experiment(make_dataset(project, frame), target="target")
    assert any("'2' (5 rows)" in w for w in experiment.warnings)


def test_a_single_class_target_is_refused(alice_client, project):
    frame = pd.DataFrame({"x": range(20), "label": ["same"] * 20})
    dataset = make_dataset(project, frame)
    response = api_create(
        alice_client,
        project,
        name="x",
        dataset_id=dataset.pk,
        task="classification",
        target="label",
    )
    assert response.status_code == 422
    assert "at least two classes" in response.json()["detail"]


# Pages.


def test_dataset_page_form_creates_an_experiment(alice_client, dataset):
    url = reverse("experiment_create", args=[dataset.pk])
    response = alice_client.post(
        url,
        {
            "name": "From the page",
            "task": "classification",
            "target": "churned",
            "fold": "5",
            "ignore_features": ["signup"],
            "normalize": "on",
            "data_split_stratify": "true",
        },
    )
    experiment = Experiment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("experiment_detail", args=[experiment.pk])
    assert experiment.setup_options == {
        "fold": 5,
        "ignore_features": ["signup"],
        "normalize": True,
        "data_split_stratify": True,
    }


def test_page_form_with_htmx_redirects_the_client(alice_client, dataset):
    response = alice_client.post(
        reverse("experiment_create", args=[dataset.pk]),
        {"name": "x", "task": "classification", "target": "churned"},
        **HTMX,
    )
    experiment = Experiment.objects.get()
    assert response["HX-Redirect"] == reverse("experiment_detail", args=[experiment.pk])


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_page_form_shows_errors_inline(alice_client, dataset, htmx):
    response = alice_client.post(
        reverse("experiment_create", args=[dataset.pk]),
        {"name": "x", "task": "regression", "target": "city", "fold": "1"},
        **(HTMX if htmx else {}),
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "Regression needs a numeric target, but 'city' is categorical" in page
    assert "fold:" in page
    assert 'id="experiment-form"' in page
    assert ("<html" in page) is not htmx
    assert not Experiment.objects.exists()


def test_experiment_form_page(alice_client, dataset):
    page = alice_client.get(reverse("experiment_create", args=[dataset.pk])).content.decode()
    assert "<html" in page
    assert 'id="experiment-form"' in page
    assert '<option value="churned" selected>' in page


def penguins_like(n: int = 344) -> pd.DataFrame:
    """Palmer penguins' shape: species first, two categories, four measurements, year last."""
    rng = np.random.default_rng(11)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], n, p=[0.44, 0.36, 0.20])
    return pd.DataFrame(
        {
            "species": species,
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
            "bill_length_mm": rng.normal(44, 5, n).round(1),
            "bill_depth_mm": rng.normal(17, 2, n).round(1),
            "flipper_length_mm": rng.integers(172, 232, n),
            "body_mass_g": rng.integers(2700, 6300, n),
            "sex": rng.choice(["male", "female"], n),
            "year": rng.choice([2007, 2008, 2009], n),
        }
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_forms_default_target_is_the_rule_books_top_candidate(alice_client, project, htmx):
    dataset = make_dataset(project, penguins_like(), name="penguins.csv")
    response = alice_client.get(
        reverse("experiment_create", args=[dataset.pk]), **(HTMX if htmx else {})
    )
    page = response.content.decode()
    assert ("<html" in page) is not htmx and 'id="experiment-form"' in page
    assert '<option value="species" selected>' in page  # not year, the last column
    assert '<option value="year" selected>' not in page
    assert '<option value="classification" selected>' in page


def test_experiment_page_full_and_fragment(alice_client, project):
    frame = pd.DataFrame({"x": range(40), "label": ["a"] * 37 + ["b"] * 3})
    dataset = make_dataset(project, frame, name="rare.csv")
    experiment = make_experiment(dataset, target="label", setup={"session_id": 7}, name="Rare")
    url = reverse("experiment_detail", args=[experiment.pk])
    full = alice_client.get(url).content.decode()
    assert "<html" in full
    assert "Rare" in full
    assert reverse("dataset_detail", args=[dataset.pk]) in full
    assert "fewer rows than fold=10" in full
    assert "session_id" in full
    assert 'id="runs"' in full
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="experiment-body"' in fragment
    assert 'id="runs"' in fragment
    assert "<html" not in fragment


# Bob cannot create experiments in alice's project, or see hers.


def test_bob_gets_404_on_alices_experiments(bob_client, bob, project, dataset):
    experiment = make_experiment(dataset, target="churned")
    assert bob_client.get(f"/api/v1/experiments/{experiment.pk}").status_code == 404
    assert bob_client.get(f"/api/v1/projects/{project.pk}/experiments").status_code == 404
    assert bob_client.get(reverse("experiment_detail", args=[experiment.pk])).status_code == 404


def test_bob_cannot_create_experiments_in_alices_project(bob_client, bob, project, dataset):
    payload = {"name": "x", "dataset_id": dataset.pk, "task": "classification", "target": "churned"}
    assert api_create(bob_client, project, **payload).status_code == 404
    # Nor in his own project with her dataset.
    assert api_create(bob_client, make_project(bob), **payload).status_code == 404
    page = bob_client.post(
        reverse("experiment_create", args=[dataset.pk]),
        {"name": "x", "task": "classification", "target": "churned"},
    )
    assert page.status_code == 404
    assert bob_client.get(reverse("experiment_create", args=[dataset.pk])).status_code == 404
    assert not Experiment.objects.exists()
