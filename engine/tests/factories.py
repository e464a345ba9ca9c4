"""Test factories for the engine: real services, real files, no shortcuts around validation.

This module also holds the trained pipelines the serving, deployment and batch tests share:
each kind is trained once per session, in-process, by the real runner on data that went through
the real ingestion, and copied into each test's own Run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import workspace_of
from engine.models import Dataset, Experiment, Project, Run

# Headers of a request htmx sends: the view answers with a fragment instead of the full page.
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_project(user: User, name: str = "Churn") -> Project:
    """A project in the user's first workspace."""
    from engine.services.projects import project_create

    return project_create(workspace=workspace_of(user), name=name, user=user)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def make_dataset(
    project: Project, frame: pd.DataFrame, name: str = "data.csv", user: User | None = None
) -> Dataset:
    """Upload `frame` as a CSV through the real ingestion service."""
    from engine.services.datasets import dataset_ingest

    return dataset_ingest(
        project=project,
        file=ContentFile(csv_bytes(frame), name=name),
        filename=name,
        name=name,
        user=user or project.created_by,
    )


def make_experiment(
    dataset: Dataset,
    *,
    task: str = "classification",
    target: str | None = None,
    setup: dict | None = None,
    name: str = "exp",
    user: User | None = None,
) -> Experiment:
    """An experiment through the real service; the target defaults to the last column."""
    from engine.services.experiments import experiment_create

    return experiment_create(
        project=dataset.project,
        dataset=dataset,
        name=name,
        task=task,
        target=target if target is not None else dataset.column_names[-1],
        setup=setup,
        user=user or dataset.created_by,
    )


# Frames: data shipped with scikit-learn, or made here with a fixed seed.


def breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's breast_cancer data: 569 rows, 30 numeric features and a 0/1 `target`."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def diabetes_frame() -> pd.DataFrame:
    """scikit-learn's diabetes data: 442 rows, 10 numeric features and a numeric `target`."""
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def labels_frame() -> pd.DataFrame:
    """Text labels, a categorical feature, an integer feature and missing values (fixed seed)."""
    rng = np.random.default_rng(7)
    n = 240
    size = rng.normal(10, 3, n).round(3)
    colour = rng.choice(["red", "green", "blue"], n)
    count = rng.integers(0, 20, n)
    score = size + np.where(colour == "red", 3, 0) + rng.normal(0, 1.5, n)
    frame = pd.DataFrame(
        {
            "size": size,
            "colour": colour,
            "count": count,
            "target": np.where(score > 11.5, "yes", "no"),
        }
    )
    frame.loc[rng.choice(n, 12, replace=False), "size"] = np.nan
    return frame


def iris_features_frame() -> pd.DataFrame:
    """scikit-learn's iris measurements without the species: 150 rows, 4 numeric columns."""
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame.drop(columns="target")


def monthly_series_frame() -> pd.DataFrame:
    """A generated monthly series: 144 months from 1949-01 (`month`) and `passengers`."""
    from engine.timeseries import monthly_demo_frame

    return monthly_demo_frame()


# Trained pipelines and succeeded runs.

TRAINED_SETUP = {"fold": 2, "session_id": 123}
TRAINED_PLAN = {"kind": "create", "model_id": "lr"}
SERIES_SETUP = {"date_column": "month", "fh": 12, "fold": 2, "session_id": 123}
KINDS = {
    "classifier": (breast_cancer_frame, "classification"),
    "regressor": (diabetes_frame, "regression"),
    "labels": (labels_frame, "classification"),
    "clusters": (iris_features_frame, "clustering"),
    "anomalies": (iris_features_frame, "anomaly"),
    "forecast": (monthly_series_frame, "time_series"),
}
# (plan, setup options, target) of the kinds that differ from the tabular ones.
KIND_RUNS = {
    "clusters": (
        {"kind": "create", "model_id": "kmeans", "num_clusters": 3},
        {"session_id": 123},
        "",
    ),
    "anomalies": (
        {"kind": "create", "model_id": "iforest", "fraction": 0.05},
        {"session_id": 123},
        "",
    ),
    "forecast": ({"kind": "create", "model_id": "arima"}, SERIES_SETUP, "passengers"),
}
_trained: dict[str, tuple] = {}


def kind_run(kind: str) -> tuple[dict, dict, str]:
    """(plan, setup options, target) that `kind`'s shared pipeline was trained with."""
    return KIND_RUNS.get(kind, (TRAINED_PLAN, TRAINED_SETUP, "target"))


def ingested(frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """`frame` as the runner sees a dataset: CSV, through ingestion, read back from Parquet."""
    from engine.ingest import ingest_file, read_parquet_frame

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "data.csv"
    source.write_bytes(frame.to_csv(index=False).encode())
    ingest_file(
        source=source, filename="data.csv", parquet_out=folder / "data.parquet", max_bytes=1 << 30
    )
    return read_parquet_frame(folder / "data.parquet")


def trained(kind: str):
    """(RunResult, work_dir, training frame) for `kind`; trained once per session."""
    if kind not in _trained:
        from engine.runner import ListSink, execute_plan

        make_frame, task = KINDS[kind]
        plan, setup, target = kind_run(kind)
        work_dir = Path(settings.MEDIA_ROOT) / "trained" / kind
        shutil.rmtree(work_dir, ignore_errors=True)
        frame = ingested(make_frame(), work_dir / "data")
        result = execute_plan(
            plan=plan,
            data=frame,
            task=task,
            target=target or None,
            setup_options=setup,
            work_dir=work_dir,
            sink=ListSink(),
        )
        _trained[kind] = (result, work_dir, frame)
    return _trained[kind]


def make_succeeded_run(user, kind: str = "classifier", project=None, name: str | None = None):
    """A succeeded Run of `kind` in a project of `user`, recorded by the runs service."""
    from engine.models import RunStatus
    from engine.services.execution import _record_success, store_run_files

    result, work_dir, _ = trained(kind)
    make_frame, task = KINDS[kind]
    plan, setup, target = kind_run(kind)
    project = project or make_project(user, name=f"Deploy {name or kind}")
    dataset = make_dataset(project, make_frame(), name=f"{kind}.csv", user=user)
    experiment = make_experiment(
        dataset, task=task, target=target, setup=setup, name=name or kind, user=user
    )
    run = Run.objects.create(
        experiment=experiment,
        plan=plan,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        created_by=user,
    )
    store_run_files(run.pk, work_dir, result)
    assert _record_success(run, result)
    run.refresh_from_db()
    return run


def make_deployment(user, kind: str = "classifier", name: str = "Cancer screening"):
    """A deployment of a freshly promoted pipeline of `kind` (deployed over the gate's warnings)."""
    from engine.services.deployments import deployment_deploy
    from engine.services.pipelines import pipeline_promote

    pipeline = pipeline_promote(run=make_succeeded_run(user, kind), user=user, name=name)
    deployment, _ = deployment_deploy(pipeline=pipeline, user=user, acknowledge_risks=True)
    return deployment


def pycaret_experiment(task: str):
    """A fresh PyCaret experiment object of `task` (no setup)."""
    from engine.runner import prepare_pycaret_import

    prepare_pycaret_import()
    if task == "classification":
        from pycaret.classification import ClassificationExperiment as Experiment
    elif task == "regression":
        from pycaret.regression import RegressionExperiment as Experiment
    elif task == "clustering":
        from pycaret.clustering import ClusteringExperiment as Experiment
    elif task == "anomaly":
        from pycaret.anomaly import AnomalyExperiment as Experiment
    else:
        from pycaret.time_series import TSForecastingExperiment as Experiment
    return Experiment()


def predict_model_frame(kind: str, rows: pd.DataFrame) -> pd.DataFrame:
    """PyCaret's own answer: load_model on the artifact, then predict_model."""
    task = KINDS[kind][1]
    _, work_dir, _ = trained(kind)
    exp = pycaret_experiment(task)
    model = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    if task in ("clustering", "anomaly"):
        return exp.predict_model(model, data=rows)  # unsupervised predict_model never rounds
    return exp.predict_model(model, data=rows, round=10, verbose=False)


def assert_equal_to_predict_model(kind: str, rows: pd.DataFrame, predictions: list[dict]) -> None:
    expected = predict_model_frame(kind, rows)
    assert len(predictions) == len(expected)
    labels = [p["label"] for p in predictions]
    task = KINDS[kind][1]
    if task == "clustering":
        assert labels == expected["Cluster"].tolist()
        return
    if task == "anomaly":
        assert labels == expected["Anomaly"].tolist()
        scores = [p["score"] for p in predictions]
        assert scores == pytest.approx(expected["Anomaly_Score"].tolist(), abs=1e-6)
        return
    assert labels == expected["prediction_label"].tolist()
    if KINDS[kind][1] == "classification":
        scores = [p["score"] for p in predictions]
        assert scores == pytest.approx(expected["prediction_score"].tolist(), abs=1e-9)
    else:
        assert [p["value"] for p in predictions] == labels


def assert_equal_to_forecast(kind: str, fh: int, predictions: list[dict]) -> None:
    """Forecasts equal PyCaret's predict_model(pipeline, fh=fh, return_pred_int=True)."""
    _, work_dir, _ = trained(kind)
    exp = pycaret_experiment("time_series")
    model = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    expected = exp.predict_model(model, fh=fh, return_pred_int=True, round=10, verbose=False)
    assert [p["period"] for p in predictions] == [str(period) for period in expected.index]
    values = [p["value"] for p in predictions]
    assert values == pytest.approx(expected["y_pred"].tolist(), abs=1e-6)
    if expected["lower"].notna().all():
        assert [p["lower"] for p in predictions] == pytest.approx(
            expected["lower"].tolist(), abs=1e-6
        )
        assert [p["upper"] for p in predictions] == pytest.approx(
            expected["upper"].tolist(), abs=1e-6
        )
    else:
        assert all("lower" not in p and "upper" not in p for p in predictions)


def sample_rows(kind: str, n: int = 40, seed: int = 3) -> pd.DataFrame:
    """`n` training rows of `kind`, without the target."""
    _, _, frame = trained(kind)
    return frame.drop(columns="target", errors="ignore").sample(n=n, random_state=seed)


def as_records(rows: pd.DataFrame) -> list[dict]:
    """JSON-like rows: NaN as None, numpy scalars as Python values."""
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]


# Broken multipart bodies, as a careless or hostile client sends them to an upload route.


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "XyZ") -> bytes:
    """A multipart/form-data body of (field name, file name or None, data) parts."""
    lines = []
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        lines += [f"--{boundary}".encode(), f"Content-Disposition: {disposition}".encode()]
        lines += [b"Content-Type: text/csv", b"", data]
    lines.append(f"--{boundary}--".encode())
    return b"\r\n".join(lines) + b"\r\n"


_CSV = b"mean radius,mean texture\n1,2\n"
_WITH_BOUNDARY = "multipart/form-data; boundary=XyZ"
# (content type, body) pairs, for pytest.mark.parametrize.
BROKEN_MULTIPART = [
    pytest.param("multipart/form-data", multipart([("file", "a.csv", _CSV)]), id="no-boundary"),
    pytest.param(
        _WITH_BOUNDARY,
        multipart([(f"file{i}", f"{i}.csv", b"x") for i in range(2000)]),
        id="2000-files",
    ),
    pytest.param(
        _WITH_BOUNDARY,
        multipart([(f"field{i}", None, b"x") for i in range(2000)]),
        id="2000-fields",
    ),
    pytest.param(
        _WITH_BOUNDARY, multipart([("file", "a" * 2048 + ".csv", _CSV)]), id="2kb-filename"
    ),
    pytest.param(
        _WITH_BOUNDARY,
        b"--XyZ\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\n\r\n" + _CSV,
        id="unterminated",
    ),
]
