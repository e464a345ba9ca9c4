"""Comparing 2 to 5 runs side by side: the page, the API, and the per-fold scores the runner
records for it."""

import re
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from engine.models import Experiment, Run
from engine.selectors.comparisons import compare_ids
from engine.tests.factories import HTMX, make_dataset, make_project

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def experiment(alice) -> Experiment:
    frame = pd.DataFrame({"x": range(20), "y": [0.5 * i for i in range(20)]})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project,
        dataset=dataset,
        name="e",
        task="regression",
        target="y",
        setup_options={"fold": 2, "session_id": 1},
    )


def regression_run(experiment, model_id, *, mae, r2, folds=None, plots=("residuals",)):
    now = timezone.now()
    run = Run.objects.create(
        experiment=experiment,
        plan={"kind": "create", "model_id": model_id},
        status="succeeded",
        started_at=now,
        finished_at=now,
        model_id=model_id,
        model_name=model_id.upper(),
        leaderboard=[{"model_id": model_id, "Model": model_id.upper(), "MAE": mae, "R2": r2}],
        leaderboard_sort="R2",
        metrics={"Model": model_id.upper(), "MAE": mae + 0.5, "R2": r2 - 0.1},
        plots=[{"name": name, "filename": f"{name}.png"} for name in plots],
        outcome={"cv_folds": folds} if folds else {},
    )
    run_dir = Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in plots:
        (run_dir / f"{name}.png").write_bytes(PNG)
    return run


@pytest.fixture
def pair(experiment):
    folds = [{"Fold": "0", "MAE": 1.1, "R2": 0.8}, {"Fold": "1", "MAE": 0.9, "R2": 0.9}]
    return (
        regression_run(experiment, "lr", mae=3.0, r2=0.6),
        regression_run(
            experiment, "dt", mae=1.0, r2=0.85, folds=folds, plots=("residuals", "error")
        ),
    )


def compare_page(client, ids, **headers):
    return client.get(reverse("run_compare"), {"ids": ids}, **headers)


# Which ids.


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["1,2"], [1, 2]), (["3", "1"], [3, 1]), (["#4, 5,5 ,6"], [4, 5, 6])],
)
def test_compare_ids_reads_commas_repeats_and_hashes(values, expected):
    assert compare_ids(values) == expected


# The page.


def test_the_page_shows_settings_as_a_diff_with_differing_rows_highlighted(alice_client, pair):
    lr, dt = pair
    response = compare_page(alice_client, f"{lr.pk},{dt.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    settings_table = html[html.index('id="compare-settings"') : html.index("</table>")]
    model_row = re.search(
        r'<tr class="differs">\s*<th scope="row"><code>plan.model_id</code>', settings_table
    )
    assert model_row, settings_table
    kind_row = re.search(r"<tr>\s*<th scope=\"row\"><code>plan.kind</code>", settings_table)
    assert kind_row  # the same in both: not highlighted
    assert "<code>setup.fold</code>" in settings_table
    assert lr.label in html and dt.label in html


def test_the_best_score_of_each_row_is_highlighted_by_the_metrics_direction(alice_client, pair):
    lr, dt = pair
    html = compare_page(alice_client, f"{lr.pk},{dt.pk}").content.decode()

    def cells(key):
        row = html[html.index(f'data-metric="{key}"') :]
        return re.findall(r'<td class="num( best)?"', row[: row.index("</tr>")])

    assert cells("cv:MAE") == ["", " best"]  # lower is better: dt's 1.0
    assert cells("cv:R2") == ["", " best"]  # higher is better: dt's 0.85
    assert cells("holdout:MAE") == ["", " best"]


def test_per_fold_scores_where_recorded_and_not_recorded_otherwise(alice_client, pair):
    lr, dt = pair
    html = compare_page(alice_client, f"{lr.pk},{dt.pk}").content.decode()
    lr_folds = html[html.index(f'class="compare-fold" data-run-id="{lr.pk}"') :]
    assert "Not recorded" in lr_folds[: lr_folds.index("</div>")]
    dt_folds = html[html.index(f'class="compare-fold" data-run-id="{dt.pk}"') :]
    assert ">0.9000<" in dt_folds and ">1.1000<" in dt_folds


def test_plots_in_a_grid_link_to_each_runs_plot(alice_client, pair):
    lr, dt = pair
    html = compare_page(alice_client, f"{lr.pk},{dt.pk}").content.decode()
    assert reverse("run_plot", args=[lr.pk, "residuals"]) in html
    assert reverse("run_plot", args=[dt.pk, "error"]) in html
    assert "No error plot." in html  # lr drew none
    assert alice_client.get(reverse("run_plot", args=[dt.pk, "error"])).status_code == 200


def test_htmx_gets_the_compare_fragment(alice_client, pair):
    lr, dt = pair
    body = compare_page(alice_client, f"{lr.pk},{dt.pk}", **HTMX).content.decode()
    assert 'id="compare-body"' in body and "<html" not in body


def test_the_runs_table_checkboxes_reach_the_page(alice_client, pair):
    lr, dt = pair
    response = alice_client.get(reverse("run_compare"), {"ids": [lr.pk, dt.pk]})
    assert response.status_code == 200 and 'id="compare-metrics"' in response.content.decode()


@pytest.mark.parametrize("ids", ["", "1", "1,2,3,4,5,6", "a,b"])
def test_a_wrong_number_of_ids_is_a_clear_422_on_the_page(alice_client, ids):
    response = compare_page(alice_client, ids)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="compare-error"' in html
    assert "Pick 2 to 5 different runs" in html or "whole numbers" in html


def test_the_same_run_twice_is_one_run(alice_client, pair):
    lr, _ = pair
    response = compare_page(alice_client, f"{lr.pk},{lr.pk}")
    assert response.status_code == 422 and "1 was given" in response.content.decode()


def test_bob_gets_404_when_any_run_is_alices(bob, bob_client, pair):
    lr, dt = pair
    assert compare_page(bob_client, f"{lr.pk},{dt.pk}").status_code == 404
    frame = pd.DataFrame({"x": range(20), "y": [0.5 * i for i in range(20)]})
    dataset = make_dataset(make_project(bob), frame, user=bob)
    bobs = Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="b", task="regression", target="y"
    )
    own = regression_run(bobs, "lr", mae=1, r2=0.5)
    assert compare_page(bob_client, f"{own.pk},{lr.pk}").status_code == 404


# The API.


def test_the_api_returns_the_comparison(alice_client, pair):
    lr, dt = pair
    response = alice_client.get("/api/v1/runs/compare", {"ids": f"{lr.pk},{dt.pk}"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["id"] for r in body["runs"]] == [lr.pk, dt.pk]
    assert body["runs"][0]["label"] == lr.label
    model_row = next(row for row in body["settings"] if row["name"] == "plan.model_id")
    assert model_row == {"name": "plan.model_id", "values": ["lr", "dt"], "differs": True}
    mae = next(m for m in body["metrics"] if m["source"] == "cv" and m["name"] == "MAE")
    assert mae == {
        "source": "cv",
        "name": "MAE",
        "higher_is_better": False,
        "values": [3.0, 1.0],
        "best": [False, True],
    }
    assert [f["recorded"] for f in body["folds"]] == [False, True]
    assert body["folds"][1]["rows"][0] == {"Fold": "0", "MAE": 1.1, "R2": 0.8}
    error = next(p for p in body["plots"] if p["name"] == "error")
    assert error["runs"][0] == {"run_id": lr.pk, "present": False, "url": None}
    assert error["runs"][1]["url"] == f"/api/v1/runs/{dt.pk}/plots/error"


def test_the_api_is_in_the_openapi_schema(alice_client):
    schema = alice_client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/runs/compare"]["get"]
    assert "422" in operation["responses"] and "404" in operation["responses"]


@pytest.mark.parametrize("ids", ["1", "1,2,3,4,5,6", "x,y", "0,1"])
def test_the_api_refuses_a_wrong_number_of_ids_with_422(alice_client, ids):
    response = alice_client.get("/api/v1/runs/compare", {"ids": ids})
    assert response.status_code == 422
    assert response.json()["detail"]


def test_the_api_needs_ids(alice_client):
    assert alice_client.get("/api/v1/runs/compare").status_code == 422


def test_the_api_answers_404_for_a_run_the_caller_cannot_see(bob_client, pair):
    lr, dt = pair
    response = bob_client.get("/api/v1/runs/compare", {"ids": f"{lr.pk},{dt.pk}"})
    assert response.status_code == 404 and response.json()["detail"]


# The runner records the folds.


@pytest.mark.filterwarnings("ignore")
def test_a_create_run_records_pycarets_per_fold_scores(tmp_path):
    from sklearn.datasets import load_diabetes

    from engine.runner import ListSink, execute_plan

    data = load_diabetes(as_frame=True).frame.sample(n=120, random_state=0)
    result = execute_plan(
        plan={"kind": "create", "model_id": "lr"},
        data=data.reset_index(drop=True),
        task="regression",
        target="target",
        setup_options={"fold": 2, "session_id": 7},
        work_dir=tmp_path,
        sink=ListSink(),
        dataset_sha256="d" * 64,
    )
    folds = result.outcome["cv_folds"]
    assert [row["Fold"] for row in folds] == ["0", "1"]
    assert {"MAE", "R2"} <= set(folds[0])
    mean_mae = sum(row["MAE"] for row in folds) / 2
    assert mean_mae == pytest.approx(result.leaderboard[0]["MAE"], abs=1e-3)
    assert "_folds" not in result.leaderboard[0]
