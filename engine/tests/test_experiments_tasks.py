"""Experiments of the five tasks: which take a target, the time-series checks at creation, and
the experiment form that adapts to the task."""

import numpy as np
import pandas as pd
import pytest

from engine.models import Experiment
from engine.tests.factories import (
    HTMX,
    iris_features_frame,
    make_dataset,
    make_project,
    monthly_series_frame,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def project(alice):
    return make_project(alice, "Tasks")


@pytest.fixture
def iris(project):
    return make_dataset(project, iris_features_frame(), name="iris.csv")


@pytest.fixture
def series(project):
    return make_dataset(project, monthly_series_frame(), name="passengers.csv")


def api_create(client, project, **payload):
    payload.setdefault("name", "e1")
    return client.post(f"/api/v1/projects/{project.pk}/experiments", payload, "application/json")


@pytest.mark.parametrize("task", ["clustering", "anomaly"])
def test_clustering_and_anomaly_take_no_target(alice_client, project, iris, task):
    response = api_create(alice_client, project, dataset_id=iris.pk, task=task)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["task"], body["target"]) == (task, None)
    refused = api_create(
        alice_client, project, dataset_id=iris.pk, task=task, target="petal width (cm)"
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "target_not_allowed"
    assert "takes no target" in refused.json()["detail"]


def test_options_that_need_a_split_are_refused_for_clustering(alice_client, project, iris):
    response = api_create(
        alice_client,
        project,
        dataset_id=iris.pk,
        task="clustering",
        setup={"train_size": 0.8, "fold": 3, "normalize": True},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "not_applicable"
    assert "train_size, fold do not apply to clustering" in body["detail"]


def test_a_time_series_experiment_as_the_issue_writes_it(alice_client, project, series):
    response = api_create(
        alice_client,
        project,
        dataset_id=series.pk,
        task="time_series",
        target="passengers",
        setup={"date_column": "month", "fh": 12, "fold": 2, "session_id": 42},
    )
    assert response.status_code == 201, response.content
    assert response.json()["setup"] == {
        "date_column": "month",
        "fh": 12,
        "fold": 2,
        "session_id": 42,
    }


def _series(**changes) -> pd.DataFrame:
    frame = monthly_series_frame()
    for column, (row, value) in changes.items():
        if isinstance(value, str):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("frame", "setup", "code", "message"),
    [
        (_series(month=(7, "someday")), {}, "unparseable_date", "'someday' (row 8)"),
        (_series(month=(5, "1949-05")), {}, "duplicate_dates", "Dates repeat in 'month'"),
        (monthly_series_frame().drop(index=[10, 11]), {}, "irregular_dates", "not evenly spaced"),
        (_series(passengers=(3, "lots")), {}, "target_not_numeric", "needs a numeric series"),
        (_series(passengers=(3, np.nan)), {}, "missing_values", "1 missing value(s)"),
        (
            monthly_series_frame(),
            {"fh": 50},
            "too_few_points",
            "fh=50 with fold=2 needs at least 153",
        ),
        (monthly_series_frame(), {"date_column": None}, "required", "date_column is required"),
        (monthly_series_frame(), {"date_column": "when"}, "unknown_column", "'when'"),
        (
            monthly_series_frame(),
            {"date_column": "passengers"},
            "invalid",
            "must not include the target column",
        ),
        (monthly_series_frame(), {"fold_strategy": "kfold"}, "invalid_option", "fold_strategy:"),
        (monthly_series_frame(), {"fh": 0}, "invalid_option", "fh:"),
        (monthly_series_frame(), {"normalize": True}, "unknown_option", "Unknown setup option"),
    ],
    ids=[
        "unparseable",
        "duplicated",
        "gaps",
        "text-target",
        "missing-value",
        "too-short",
        "no-date-column",
        "unknown-date-column",
        "date-is-target",
        "tabular-fold-strategy",
        "fh-zero",
        "tabular-option",
    ],
)
def test_a_time_series_experiment_is_refused_with_the_problem_named(
    alice_client, project, frame, setup, code, message
):
    dataset = make_dataset(project, frame, name="bad.csv")
    options = {"date_column": "month", "fold": 2, **setup}
    options = {k: v for k, v in options.items() if v is not None}
    response = api_create(
        alice_client,
        project,
        dataset_id=dataset.pk,
        task="time_series",
        target="passengers",
        setup=options,
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert message in body["detail"]
    assert body["code"] == code
    assert not Experiment.objects.exists()


def test_a_time_series_needs_its_series_as_target(alice_client, project, series):
    response = api_create(
        alice_client,
        project,
        dataset_id=series.pk,
        task="time_series",
        setup={"date_column": "month"},
    )
    assert response.status_code == 422
    assert "needs a target column" in response.json()["detail"]


# The form adapts to the task.


def test_the_form_offers_forecasting_only_with_a_date_column(alice_client, iris, series):
    with_dates = alice_client.get(f"/datasets/{series.pk}/").content.decode()
    assert '<option value="time_series"' in with_dates
    assert 'name="date_column"' in with_dates and '<option value="month"' in with_dates
    assert 'name="fh"' in with_dates
    without = alice_client.get(f"/datasets/{iris.pk}/").content.decode()
    assert '<option value="time_series"' not in without
    assert 'name="date_column"' not in without
    assert "needs a column of dates" in without
    assert '<option value="clustering"' in without and '<option value="anomaly"' in without
    fragment = alice_client.get(f"/datasets/{series.pk}/", **HTMX).content.decode()
    assert 'id="dataset-body"' in fragment and "<html" not in fragment
    assert 'name="date_column"' in fragment
    form = alice_client.get(f"/datasets/{series.pk}/experiments/new/", **HTMX).content.decode()
    assert 'id="experiment-form"' in form and "<html" not in form and 'name="fh"' in form


def test_the_form_creates_a_forecasting_experiment(alice_client, series):
    data = {
        "name": "Passengers",
        "task": "time_series",
        "target": "passengers",
        "date_column": "month",
        "fh": "12",
        "fold": "2",
        "fold_strategy": "sliding",
        "train_size": "0.8",  # a tabular field left filled in: not for this task
        "normalize": "on",
    }
    response = alice_client.post(f"/datasets/{series.pk}/experiments/new/", data, **HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert experiment.task == "time_series" and experiment.target == "passengers"
    assert experiment.setup_options == {
        "date_column": "month",
        "fh": 12,
        "fold": 2,
        "fold_strategy": "sliding",
    }


def test_the_form_creates_a_clustering_without_the_hidden_target(alice_client, iris):
    data = {
        "name": "Groups",
        "task": "clustering",
        "target": "petal width (cm)",  # the select is hidden for clustering, but still posted
        "normalize": "on",
        "fold": "3",
    }
    response = alice_client.post(f"/datasets/{iris.pk}/experiments/new/", data, **HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert (experiment.task, experiment.target) == ("clustering", "")
    assert experiment.setup_options == {"normalize": True}


def test_the_form_shows_a_series_problem_next_to_its_field(alice_client, project):
    dataset = make_dataset(project, monthly_series_frame().drop(index=[4]), name="gap.csv")
    data = {"name": "Gap", "task": "time_series", "target": "passengers", "date_column": "month"}
    response = alice_client.post(f"/datasets/{dataset.pk}/experiments/new/", data, **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_date_column_error"' in body and "not evenly spaced" in body


@pytest.mark.parametrize("task", ["clustering", "anomaly", "time_series"])
def test_experiment_pages_render_full_and_as_fragments(
    alice, alice_client, project, iris, series, task
):
    from engine.services.experiments import experiment_create

    dataset, target, setup = (
        (series, "passengers", {"date_column": "month", "fold": 2})
        if (task == "time_series")
        else (iris, None, {})
    )
    experiment = experiment_create(
        project=project,
        dataset=dataset,
        name=task,
        task=task,
        target=target,
        setup=setup,
        user=alice,
    )
    full = alice_client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "<html" in full and 'id="experiment-body"' in full and 'id="new-run"' in full
    fragment = alice_client.get(f"/experiments/{experiment.pk}/", **HTMX).content.decode()
    assert 'id="experiment-body"' in fragment and "<html" not in fragment
    if task == "time_series":
        assert 'value="arima"' in full and 'value="compare"' in full
        assert 'value="ensemble"' not in full and "MASE" in full
    else:
        assert "of every column" in full
        assert 'value="compare"' not in full and 'value="create"' in full
    if task == "clustering":
        assert 'name="num_clusters"' in full and 'value="tsne"' in full
    if task == "anomaly":
        assert 'name="fraction"' in full and 'name="num_clusters"' not in full
