"""The experiment page's runs table: the task's metrics as columns, sorting, filters, pages and
the boxes that pick runs to compare."""

import re
from datetime import timedelta

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from engine.models import Experiment, Run
from engine.tests.factories import HTMX, make_dataset, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(alice) -> Experiment:
    frame = pd.DataFrame({"x": range(20), "y": [0.5 * i for i in range(20)]})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="regression", target="y"
    )


def scored(experiment, user, model_id, mae, r2, *, kind="create", seconds=10, status="succeeded"):
    start = timezone.now() - timedelta(seconds=seconds)
    row = {"model_id": model_id, "Model": model_id.upper(), "MAE": mae, "R2": r2, "RMSE": mae * 2}
    return Run.objects.create(
        experiment=experiment,
        plan={"kind": kind, "model_id": model_id},
        status=status,
        started_at=start,
        finished_at=start + timedelta(seconds=seconds),
        model_id=model_id,
        model_name=model_id.upper(),
        leaderboard=[row],
        leaderboard_sort="R2",
        created_by=user,
    )


@pytest.fixture
def runs(experiment, alice):
    return {
        "lr": scored(experiment, alice, "lr", mae=3.0, r2=0.70, seconds=5),
        "dt": scored(experiment, alice, "dt", mae=1.0, r2=0.90, seconds=50),
        "ridge": scored(experiment, alice, "ridge", mae=2.0, r2=0.80, kind="tune", seconds=20),
        "failed": Run.objects.create(
            experiment=experiment, plan={"kind": "compare"}, status="failed", created_by=alice
        ),
    }


def row_order(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-run-id="(\d+)"', html)]


def table_of(client, experiment, **params):
    response = client.get(reverse("experiment_detail", args=[experiment.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_every_metric_of_the_task_is_a_column_in_pycarets_order(alice_client, experiment, runs):
    html = table_of(alice_client, experiment)
    head = html[html.index('id="runs-table"') : html.index("</thead>")]
    keys = re.findall(r'data-sort-key="([^"]+)"', head)
    assert keys == ["MAE", "MSE", "RMSE", "R2", "RMSLE", "MAPE", "duration", "created"]
    for label in ("Plan", "Model", "Status", "Submitted by"):
        assert f">{label}</th>" in head
    row = html[html.index(f'<tr data-run-id="{runs["dt"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">1.0000<" in row and ">0.9000<" in row and ">2.0000<" in row  # MAE, R2, RMSE
    assert "alice" in row and "50s" in row and runs["dt"].label in row


def test_default_order_is_newest_first(alice_client, experiment, runs):
    order = row_order(table_of(alice_client, experiment))
    assert order == sorted(order, reverse=True)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "R2", "dir": "desc"}, ["dt", "ridge", "lr", "failed"]),
        ({"sort": "R2", "dir": "asc"}, ["lr", "ridge", "dt", "failed"]),  # unscored stay last
        ({"sort": "MAE", "dir": "asc"}, ["dt", "ridge", "lr", "failed"]),
        ({"sort": "duration", "dir": "desc"}, ["dt", "ridge", "lr", "failed"]),
        ({"sort": "created", "dir": "asc"}, ["lr", "dt", "ridge", "failed"]),
    ],
)
def test_sorting_by_a_metric_duration_or_creation(alice_client, experiment, runs, params, expected):
    assert row_order(table_of(alice_client, experiment, **params)) == [
        runs[name].pk for name in expected
    ]


def test_a_metrics_heading_sorts_best_first_then_flips(alice_client, experiment, runs):
    html = table_of(alice_client, experiment)
    assert re.search(r'href="[^"]*sort=MAE&amp;dir=asc[^"]*"[^>]*data-sort-key="MAE"', html)
    assert re.search(r'href="[^"]*sort=R2&amp;dir=desc[^"]*"[^>]*data-sort-key="R2"', html)
    sorted_html = table_of(alice_client, experiment, sort="R2", dir="desc")
    assert re.search(r'href="[^"]*sort=R2&amp;dir=asc[^"]*"[^>]*data-sort-key="R2"', sorted_html)
    assert 'aria-sort="descending"' in sorted_html


def test_unknown_sort_or_filter_values_fall_back_to_the_default(alice_client, experiment, runs):
    html = table_of(alice_client, experiment, sort="<script>", dir="up", status="nope", page="x")
    order = row_order(html)
    assert len(order) == 4 and order == sorted(order, reverse=True)
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, ["failed"]),
        ({"kind": "tune"}, ["ridge"]),
        ({"model": "dt"}, ["dt"]),
        ({"status": "succeeded", "kind": "create", "sort": "R2", "dir": "desc"}, ["dt", "lr"]),
    ],
)
def test_filters_by_status_plan_kind_and_model(alice_client, experiment, runs, params, expected):
    assert row_order(table_of(alice_client, experiment, **params)) == [
        runs[name].pk for name in expected
    ]


def test_no_match_says_so(alice_client, experiment, runs):
    assert "No run matches these filters" in table_of(alice_client, experiment, status="cancelled")


def test_htmx_gets_the_table_fragment_and_pushes_the_experiment_page_url(
    alice_client, experiment, runs
):
    url = reverse("experiment_runs", args=[experiment.pk])
    response = alice_client.get(url, {"sort": "R2", "dir": "desc"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="runs-list"' in body
    assert row_order(body)[0] == runs["dt"].pk
    page_url = reverse("experiment_detail", args=[experiment.pk])
    assert response["HX-Push-Url"] == f"{page_url}?sort=R2&dir=desc"
    # the list's own refresh keeps the sort and pushes nothing
    assert f'hx-get="{url}?sort=R2&amp;dir=desc&amp;page=1"' in body
    refresh = alice_client.get(url, {"sort": "R2"}, HTTP_HX_TRIGGER="runs-list", **HTMX)
    assert "HX-Push-Url" not in refresh


def test_without_htmx_the_table_url_redirects_to_the_experiment_page(
    alice_client, experiment, runs
):
    url = reverse("experiment_runs", args=[experiment.pk])
    response = alice_client.get(url, {"status": "failed", "kind": "", "model": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("experiment_detail", args=[experiment.pk]) + (
        "?status=failed"
    )


def test_the_table_is_paginated_by_25(alice, alice_client, experiment):
    Run.objects.bulk_create(
        Run(experiment=experiment, plan={"kind": "setup"}, created_by=alice) for _ in range(27)
    )
    first = table_of(alice_client, experiment)
    assert len(row_order(first)) == 25 and "Page 1 of 2" in first and 'rel="next"' in first
    second = table_of(alice_client, experiment, page=2)
    assert len(row_order(second)) == 2 and 'rel="prev"' in second


def test_checkboxes_and_compare_selected_send_the_picked_ids(alice_client, experiment, runs):
    html = table_of(alice_client, experiment)
    assert (
        f'<form id="compare-form" class="compare-form" method="get" action="{reverse("run_compare")}">'
        in html
    )
    assert ">Compare selected</button>" in html
    for run in runs.values():
        assert re.search(
            rf'<input type="checkbox" name="ids" value="{run.pk}" form="compare-form"', html
        )


def test_a_classification_table_has_classification_metrics(alice, alice_client):
    frame = pd.DataFrame({"x": range(20), "y": [0, 1] * 10})
    dataset = make_dataset(make_project(alice, name="Cls"), frame)
    experiment = Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="c", task="classification", target="y"
    )
    Run.objects.create(experiment=experiment, plan={"kind": "setup"})
    html = table_of(alice_client, experiment)
    keys = re.findall(r'data-sort-key="([^"]+)"', html)
    assert keys[:7] == ["Accuracy", "AUC", "Recall", "Prec.", "F1", "Kappa", "MCC"]


def test_bob_cannot_see_alices_runs_table(bob_client, experiment, runs):
    url = reverse("experiment_runs", args=[experiment.pk])
    assert bob_client.get(url, **HTMX).status_code == 404
    assert bob_client.get(url).status_code == 404
