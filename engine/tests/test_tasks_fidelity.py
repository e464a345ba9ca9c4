"""Clustering, anomaly detection and time-series forecasting through a real worker, against bare
PyCaret on the same data, options and session_id: the run's leaderboard equals PyCaret's, and
the promoted, deployed pipeline predicts what PyCaret's own pipeline predicts.

One test per task walks the whole way (run, leaderboard, promote, deploy, predict), so each
expensive run happens once.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from accounts.services import api_key_create
from accounts.tests.factories import login_client
from engine.ingest import read_parquet_frame
from engine.metrics import task_metrics
from engine.selectors.datasets import dataset_parquet_file
from engine.services.runs import run_submit
from engine.tests.factories import (
    iris_features_frame,
    make_dataset,
    make_experiment,
    make_project,
    monthly_series_frame,
    pycaret_experiment,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.worker,
    pytest.mark.filterwarnings("ignore"),
]

SESSION_ID = 123
QUIET = {"verbose": False, "html": False, "system_log": False}
SERIES_MODELS = ["naive", "snaive", "arima", "exp_smooth"]
TERMINAL = ("succeeded", "failed", "cancelled")


def finished(run, worker, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in TERMINAL:
            assert run.status == "succeeded", f"{run.error_category}: {run.error_message}"
            return run
        time.sleep(0.3)
    pytest.fail(f"run {run.pk} did not finish in {timeout} s\n{worker.log()[-4000:]}")


def api(user):
    """A client with a session (promote, deploy) and an API key's header (predict)."""
    _, token = api_key_create(user=user, name="fidelity", scopes=["read", "predict"])
    return login_client(user), {"HTTP_X_PYCARET_KEY": token}


def promote_and_deploy(client, run, name: str) -> str:
    promoted = client.post(
        f"/api/v1/runs/{run.pk}/promote", {"name": name}, content_type="application/json"
    )
    assert promoted.status_code == 201, promoted.content
    deployed = client.post(
        f"/api/v1/pipelines/{promoted.json()['id']}/deploy",
        {"acknowledge_risks": True},
        content_type="application/json",
    )
    assert deployed.status_code == 201, deployed.content
    return deployed.json()["slug"]


def predict(user, slug: str, body: dict) -> list[dict]:
    client, auth = api(user)
    client.logout()
    response = client.post(
        f"/api/v1/deployments/{slug}/predict", body, content_type="application/json", **auth
    )
    assert response.status_code == 200, response.content
    return response.json()["predictions"]


def bare_pipeline(exp, model, folder) -> object:
    """PyCaret's own pipeline for `model`: saved and loaded back, as a user of PyCaret would."""
    path = str(folder / "bare")
    exp.save_model(model, path, verbose=False)
    return exp.load_model(path, verbose=False)


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: float(v) for k, v in row.items()} for row in frame.to_dict("records")]


def test_clustering_equals_bare_pycaret_from_run_to_prediction(celery_worker, alice, tmp_path):
    dataset = make_dataset(make_project(alice, "Iris"), iris_features_frame(), name="iris.csv")
    experiment = make_experiment(
        dataset, task="clustering", target="", setup={"session_id": SESSION_ID}
    )
    plan = {"kind": "create", "model_id": "kmeans", "num_clusters": 3}
    run = finished(run_submit(experiment=experiment, plan=plan, user=alice), celery_worker)

    with dataset_parquet_file(dataset) as parquet:
        data = read_parquet_frame(parquet)
    bare = pycaret_experiment("clustering")
    bare.setup(data, session_id=SESSION_ID, **QUIET)
    model = bare.create_model("kmeans", num_clusters=3, verbose=False)
    expected = bare.pull().iloc[0]
    [row] = run.leaderboard
    for metric in task_metrics("clustering"):
        assert round(row[metric], 4) == round(float(expected[metric]), 4), metric
    assert "Homogeneity" not in row
    sizes = bare.assign_model(model, verbose=False)["Cluster"].value_counts()
    assert {c["label"]: c["rows"] for c in run.summary["clusters"]} == sizes.to_dict()

    client, _ = api(alice)
    slug = promote_and_deploy(client, run, "Iris groups")
    rows = data.sample(n=40, random_state=1)
    predictions = predict(alice, slug, {"rows": records(rows)})
    pipeline = bare_pipeline(bare, model, tmp_path)
    labels = bare.predict_model(pipeline, data=rows)["Cluster"].tolist()
    assert [p["label"] for p in predictions] == labels


def test_anomaly_detection_equals_bare_pycaret_from_run_to_prediction(
    celery_worker, alice, tmp_path
):
    dataset = make_dataset(make_project(alice, "Odd"), iris_features_frame(), name="iris.csv")
    experiment = make_experiment(
        dataset, task="anomaly", target="", setup={"session_id": SESSION_ID}
    )
    plan = {"kind": "create", "model_id": "iforest", "fraction": 0.05}
    run = finished(run_submit(experiment=experiment, plan=plan, user=alice), celery_worker)

    with dataset_parquet_file(dataset) as parquet:
        data = read_parquet_frame(parquet)
    bare = pycaret_experiment("anomaly")
    bare.setup(data, session_id=SESSION_ID, **QUIET)
    model = bare.create_model("iforest", fraction=0.05, verbose=False)
    assigned = bare.assign_model(model, verbose=False)
    flagged = assigned[assigned["Anomaly"] == 1].sort_values("Anomaly_Score", ascending=False)
    assert run.summary["flagged"] == len(flagged) == run.leaderboard[0]["Flagged"]
    assert [t["row"] for t in run.summary["top"]] == [int(i) + 1 for i in flagged.index[:10]]
    assert [t["score"] for t in run.summary["top"]] == pytest.approx(
        flagged["Anomaly_Score"].head(10).tolist(), abs=1e-6
    )

    client, _ = api(alice)
    slug = promote_and_deploy(client, run, "Odd flowers")
    rows = pd.concat([flagged.drop(columns=["Anomaly", "Anomaly_Score"]), data.head(20)])
    predictions = predict(alice, slug, {"rows": records(rows)})
    expected = bare.predict_model(bare_pipeline(bare, model, tmp_path), data=rows)
    assert [p["label"] for p in predictions] == expected["Anomaly"].tolist()
    assert 1 in expected["Anomaly"].tolist()
    assert [p["score"] for p in predictions] == pytest.approx(
        expected["Anomaly_Score"].tolist(), abs=1e-6
    )


def test_forecasting_equals_bare_pycaret_from_compare_to_forecast(celery_worker, alice, tmp_path):
    frame = monthly_series_frame()
    dataset = make_dataset(make_project(alice, "Airline"), frame, name="passengers.csv")
    setup = {"date_column": "month", "fh": 12, "fold": 2, "session_id": SESSION_ID}
    experiment = make_experiment(dataset, task="time_series", target="passengers", setup=setup)
    plan = {"kind": "compare", "include": SERIES_MODELS}
    run = finished(run_submit(experiment=experiment, plan=plan, user=alice), celery_worker)

    # The same series built by hand: the values on a monthly PeriodIndex.
    index = pd.period_range("1949-01", periods=len(frame), freq="M")
    series = pd.Series(frame["passengers"].to_numpy(float), index=index, name="passengers")
    bare = pycaret_experiment("time_series")
    bare.setup(series, fh=12, fold=2, session_id=SESSION_ID, **QUIET)
    best = bare.compare_models(include=SERIES_MODELS, verbose=False)
    expected = bare.pull()
    assert [row["model_id"] for row in run.leaderboard] == list(expected.index)
    for row, (model_id, bare_row) in zip(run.leaderboard, expected.iterrows(), strict=True):
        assert row["Model"] == bare_row["Model"]
        for metric in task_metrics("time_series"):
            assert round(row[metric], 4) == round(float(bare_row[metric]), 4), (model_id, metric)
    assert run.model_id == expected.index[0]
    assert {p["name"] for p in run.plots} == {"forecast", "residuals"}

    client, _ = api(alice)
    slug = promote_and_deploy(client, run, "Passengers")
    predictions = predict(alice, slug, {"fh": 18})
    pipeline = bare_pipeline(bare, bare.finalize_model(best), tmp_path)
    forecast = bare.predict_model(pipeline, fh=18, return_pred_int=True, round=10, verbose=False)
    assert [p["period"] for p in predictions] == [str(p) for p in forecast.index]
    assert predictions[0]["period"] == "1961-01"
    assert [p["value"] for p in predictions] == pytest.approx(forecast["y_pred"].tolist(), abs=1e-6)
    if forecast["lower"].notna().all():
        assert [p["lower"] for p in predictions] == pytest.approx(
            forecast["lower"].tolist(), abs=1e-6
        )
        assert [p["upper"] for p in predictions] == pytest.approx(
            forecast["upper"].tolist(), abs=1e-6
        )
    else:
        assert all(set(p) == {"period", "value"} for p in predictions)
