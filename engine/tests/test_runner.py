"""The PyCaret executor, end to end on scikit-learn's bundled datasets."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from engine.plans import ComparePlan, SetupOptions
from engine.runner import ListSink, RunCancelled, RunFailure, execute_plan
from engine.runner.execute import prepare_pycaret_import

pytestmark = pytest.mark.filterwarnings("ignore")

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS = ["lr", "dt", "nb"]
OPTIONS = {"fold": 3, "session_id": 123}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def cancer():
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="session")
def small_cancer(cancer):
    return cancer.sample(n=240, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def diabetes():
    return load_diabetes(as_frame=True).frame


def run(tmp_path_factory, *, plan, data, task="classification", options=None, sink=None):
    sink = sink if sink is not None else ListSink()
    work_dir = tmp_path_factory.mktemp(plan["kind"] if isinstance(plan, dict) else plan.kind)
    result = execute_plan(
        plan=plan,
        data=data,
        task=task,
        target="target",
        setup_options=options if options is not None else {"fold": 2, "session_id": 7},
        work_dir=work_dir,
        sink=sink,
        dataset_sha256="d" * 64,
    )
    return result, sink, work_dir


def fail(tmp_path_factory, sink=None, **kwargs) -> tuple[RunFailure, ListSink]:
    sink = sink if sink is not None else ListSink()
    with pytest.raises(RunFailure) as info:
        run(tmp_path_factory, sink=sink, **kwargs)
    return info.value, sink


@pytest.fixture(scope="session")
def compare_run(tmp_path_factory, cancer):
    return run(
        tmp_path_factory,
        plan=ComparePlan(include=MODELS),
        data=cancer,
        options=SetupOptions(**OPTIONS),
    )


@pytest.fixture(scope="session")
def bare_leaderboard(cancer):
    prepare_pycaret_import()
    from pycaret.classification import ClassificationExperiment

    exp = ClassificationExperiment()
    exp.setup(cancer, target="target", verbose=False, html=False, system_log=False, **OPTIONS)
    exp.compare_models(include=MODELS, verbose=False)
    return exp.pull()


# -- compare -------------------------------------------------------------------------------


def test_compare_ranks_the_models_and_keeps_the_best(compare_run):
    result, _, _ = compare_run
    board = result.leaderboard
    assert sorted(row["model_id"] for row in board) == sorted(MODELS)
    assert result.leaderboard_sort == "Accuracy"
    scores = [row["Accuracy"] for row in board]
    assert scores == sorted(scores, reverse=True)
    assert result.model_id == board[0]["model_id"]
    assert result.model_name == board[0]["Model"]
    assert list(board[0]) == [
        "model_id",
        "Model",
        "Accuracy",
        "AUC",
        "Recall",
        "Prec.",
        "F1",
        "Kappa",
        "MCC",
        "TT (Sec)",
    ]
    assert result.holdout_metrics["Model"] == result.model_name
    assert 0.8 < result.holdout_metrics["Accuracy"] <= 1.0
    assert result.target_classes == [0, 1]


def test_compare_leaderboard_matches_bare_pycaret(compare_run, bare_leaderboard):
    result, _, _ = compare_run
    assert [row["model_id"] for row in result.leaderboard] == list(bare_leaderboard.index)
    for row, (model_id, bare) in zip(result.leaderboard, bare_leaderboard.iterrows(), strict=True):
        assert row["Model"] == bare["Model"], model_id
        for column in bare.index.drop(["Model", "TT (Sec)"]):
            assert round(row[column], 4) == round(float(bare[column]), 4), (model_id, column)


def test_compare_reports_each_model_as_it_finishes(compare_run):
    result, sink, _ = compare_run
    per_model = [e for e in sink.events if e["message"].startswith("compare: ")]
    assert [e["data"]["model_id"] for e in per_model] == MODELS
    board = {row["model_id"]: row for row in result.leaderboard}
    for event in per_model:
        data = event["data"]
        assert data["model_name"] == board[data["model_id"]]["Model"]
        assert data["metric"] == "Accuracy"
        assert data["cv_score"] == board[data["model_id"]]["Accuracy"]
        # Seconds spent on this model's cross-validation: at least PyCaret's own mean fit time
        # per fold ("TT (Sec)"), and a part of the whole run's time.
        assert data["elapsed_s"] >= board[data["model_id"]]["TT (Sec)"] > 0
    run_seconds = sink.find("run finished")[0]["data"]["elapsed_s"]
    assert 0 < sum(e["data"]["elapsed_s"] for e in per_model) < run_seconds
    messages = sink.messages()
    order = ["setup started", "setup done", "compare: lr", "holdout evaluation", "artifact saved"]
    positions = [next(i for i, m in enumerate(messages) if m.startswith(o)) for o in order]
    assert positions == sorted(positions)
    assert sink.find("setup done")[0]["data"]["preprocessing"]["Fold Number"] == 3
    assert sink.find("holdout evaluation")[0]["data"]["metrics"] == result.holdout_metrics


def test_progress_climbs_to_its_total(compare_run):
    _, sink, _ = compare_run
    updates = sink.progress_updates
    done = [d for d, _ in updates]
    assert done == sorted(done)
    final_done, final_total = updates[-1]
    # setup + 3 models + holdout + 4 plots + artifact
    assert final_done == final_total == 10


def test_plots_and_artifact_are_written(compare_run):
    result, sink, work_dir = compare_run
    assert [p["name"] for p in result.plots] == ["auc", "confusion_matrix", "pr", "feature"]
    for plot in result.plots:
        assert plot["filename"] == f"{plot['name']}.png"
        assert (work_dir / plot["filename"]).read_bytes().startswith(PNG_MAGIC)
    assert len(sink.find("plot saved")) == len(result.plots)

    artifact = work_dir / result.artifact_filename
    assert result.artifact_filename == "pipeline.pkl"
    assert result.artifact_sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert sink.find("artifact saved")[0]["data"]["sha256"] == result.artifact_sha256


def test_saved_pipeline_predicts_from_the_feature_schema(compare_run, cancer):
    from pycaret.classification import ClassificationExperiment

    result, _, work_dir = compare_run
    columns = [f["name"] for f in result.feature_schema]
    assert columns == [c for c in cancer.columns if c != "target"]
    assert {f["kind"] for f in result.feature_schema} == {"numeric"}
    pipeline = ClassificationExperiment().load_model(str(work_dir / "pipeline"), verbose=False)
    predictions = pipeline.predict(cancer[columns].head(20))
    assert set(predictions) <= set(result.target_classes)


def test_result_records_environment_and_is_json_safe(compare_run):
    import pandas
    import pycaret
    import sklearn

    result, _, _ = compare_run
    env = result.environment
    assert env["pycaret"] == pycaret.__version__
    assert env["sklearn"] == sklearn.__version__
    assert env["pandas"] == pandas.__version__
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["dataset_sha256"] == "d" * 64
    assert env["session_id"] == 123
    assert result.model_params["max_iter"] == 1000  # PyCaret's lr
    json.dumps(result.to_dict(), allow_nan=False)


# -- other plan kinds ----------------------------------------------------------------------


def test_setup_plan_reports_preprocessing_only(tmp_path_factory, small_cancer):
    result, sink, work_dir = run(tmp_path_factory, plan={"kind": "setup"}, data=small_cancer)
    assert result.model_id is None and result.artifact_filename is None
    assert result.preprocessing["Target"] == "target"
    assert result.preprocessing["Original data shape"] == [240, 31]
    assert result.environment["session_id"] == 7
    assert list(work_dir.iterdir()) == []
    assert sink.progress_updates[-1] == (1, 1)


def test_regression_create_saves_residual_and_error_plots(tmp_path_factory, diabetes):
    result, sink, work_dir = run(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "lr"},
        data=diabetes,
        task="regression",
        options={"fold": 3, "session_id": 1},
    )
    assert result.model_id == "lr" and result.model_name == "Linear Regression"
    [row] = result.leaderboard
    assert row["model_id"] == "lr" and "R2" in row and "RMSE" in row
    assert result.leaderboard_sort == "R2"
    assert {"MAE", "R2"} <= set(result.holdout_metrics)
    names = [p["name"] for p in result.plots]
    assert {"residuals", "error"} <= set(names)
    for plot in result.plots:
        assert (work_dir / plot["filename"]).read_bytes().startswith(PNG_MAGIC)
    assert result.target_classes == []
    assert sink.progress_updates[-1][0] == sink.progress_updates[-1][1]


def test_tune_reports_start_and_best_score(tmp_path_factory, small_cancer):
    result, sink, _ = run(
        tmp_path_factory,
        plan={"kind": "tune", "model_id": "dt", "n_iter": 3, "optimize": "AUC"},
        data=small_cancer,
    )
    assert result.model_id == "dt" and result.leaderboard_sort == "AUC"
    [started] = sink.find("tune started")
    [finished] = sink.find("tune finished")
    assert started["data"]["n_iter"] == finished["data"]["n_iter"] == 3
    assert finished["data"]["best_params"]
    tune = result.outcome["tune"]
    assert finished["data"]["best_cv_score"] == tune["tuned_cv"]
    kept = tune["original_row"] if tune["kept_original"] else tune["tuned_row"]
    assert result.leaderboard == [kept]  # the scores shown are the kept model's


def test_tune_that_does_not_help_keeps_the_original_like_pycaret(tmp_path_factory, small_cancer):
    """knn on this sample: tuning lowers CV F1, so PyCaret's choose_better keeps the original;
    the run says so and shows the original's scores, not the tuned ones."""
    plan = {"kind": "tune", "model_id": "knn", "n_iter": 3, "optimize": "F1"}
    result, sink, _ = run(tmp_path_factory, plan=plan, data=small_cancer)
    tune = result.outcome["tune"]
    assert tune["kept_original"] is True
    assert tune["tuned_cv"] < tune["original_cv"]
    assert result.leaderboard == [tune["original_row"]]
    assert result.leaderboard[0]["F1"] == tune["original_cv"]
    [finished] = sink.find("tune finished")
    assert finished["message"].endswith("kept the original model")

    prepare_pycaret_import()
    from pycaret.classification import ClassificationExperiment

    bare = ClassificationExperiment()
    bare.setup(
        small_cancer,
        target="target",
        verbose=False,
        html=False,
        system_log=False,
        fold=2,
        session_id=7,
    )
    kept = bare.tune_model(
        bare.create_model("knn", verbose=False),
        n_iter=3,
        optimize="F1",
        choose_better=True,
        verbose=False,
    )
    assert result.model_params == {
        k: v for k, v in kept.get_params(deep=False).items() if k in result.model_params
    }


def test_ensemble_bags_the_base_model(tmp_path_factory, small_cancer):
    result, _, _ = run(
        tmp_path_factory,
        plan={"kind": "ensemble", "model_id": "dt", "n_estimators": 3},
        data=small_cancer,
    )
    assert result.model_id == "dt"
    assert result.model_params["n_estimators"] == 3
    assert "DecisionTreeClassifier" in result.model_params["estimator"]


def test_blend_top_n_compares_then_blends(tmp_path_factory, small_cancer):
    result, sink, _ = run(
        tmp_path_factory,
        plan={"kind": "blend", "top_n": 2, "include": ["lr", "dt", "nb"]},
        data=small_cancer,
    )
    assert result.model_id == "blend"
    assert [e["data"]["model_id"] for e in sink.find("compare: ")] == ["lr", "dt", "nb"]
    [blend] = sink.find("blend done")
    assert len(blend["data"]["model_ids"]) == 2
    assert len(result.leaderboard) == 1 and result.leaderboard[0]["model_id"] == "blend"
    assert (Path(sink.find("artifact saved")[0]["data"]["filename"])).name == "pipeline.pkl"


def test_cancellation_stops_compare(tmp_path_factory, small_cancer):
    class CancelAfterFirstModel(ListSink):
        def is_cancelled(self):
            return bool(self.find("compare: "))

    sink = CancelAfterFirstModel()
    with pytest.raises(RunCancelled):
        run(tmp_path_factory, plan=ComparePlan(include=MODELS), data=small_cancer, sink=sink)
    assert len(sink.find("compare: ")) == 1
    assert not sink.find("artifact saved")


# -- failures ------------------------------------------------------------------------------


def test_unknown_model_id_is_a_config_error_naming_valid_ids(tmp_path_factory, small_cancer):
    failure, sink = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "zzzz_not_a_model"},
        data=small_cancer,
    )
    assert failure.category == "CONFIG"
    assert "zzzz_not_a_model" in failure.message
    assert "lr" in failure.message and "rf" in failure.message
    assert failure.traceback
    assert sink.events[-1]["level"] == "error"
    assert sink.events[-1]["data"]["category"] == "CONFIG"


def test_single_class_target_is_a_data_error(tmp_path_factory, small_cancer):
    failure, _ = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "lr"},
        data=small_cancer.assign(target=1),
    )
    assert failure.category == "DATA"
    assert "only one class (1)" in failure.message


def test_all_missing_target_is_a_data_error(tmp_path_factory, small_cancer):
    failure, _ = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "lr"},
        data=small_cancer.assign(target=float("nan")),
    )
    assert failure.category == "DATA"
    assert "'target'" in failure.message and "missing" in failure.message


def test_missing_target_column_is_a_data_error(tmp_path_factory, small_cancer):
    failure, _ = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "lr"},
        data=small_cancer.drop(columns="target"),
    )
    assert failure.category == "DATA"
    assert "'target' not found" in failure.message


@pytest.mark.parametrize(
    ("task", "change", "options", "category", "fragment"),
    [
        ("regression", "labels", None, "CONFIG", "not numeric"),
        ("classification", None, {"fold": 2, "use_gpu": True}, "CONFIG", "use_gpu"),
        ("classification", None, {"fold": 2, "train_size": 0.02}, "CONFIG", "train_size"),
        ("classification", None, {"ignore_features": ["nope"]}, "DATA", "nope"),
        ("classification", "rare", None, "DATA", "only 1 row"),
    ],
)
def test_config_and_data_mistakes_are_caught_before_setup(
    tmp_path_factory, small_cancer, task, change, options, category, fragment
):
    data = small_cancer
    if change == "labels":
        data = data.assign(target=data["target"].map({0: "malignant", 1: "benign"}))
    elif change == "rare":
        data = data.assign(target=[2] + list(data["target"][1:]))
    failure, sink = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "lr"},
        data=data,
        task=task,
        options=options,
    )
    assert (failure.category, fragment in failure.message) == (category, True), failure.message
    assert not sink.find("setup started")


def test_invalid_model_params_are_a_config_error(tmp_path_factory, small_cancer):
    failure, _ = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "dt", "params": {"max_dept": 3}},
        data=small_cancer,
    )
    assert failure.category == "CONFIG"
    assert "max_dept" in failure.message and "max_depth" in failure.message


# -- process boundaries --------------------------------------------------------------------


def _python(code: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYCARET_CUSTOM_LOGGING_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_runner_and_plans_import_without_django_or_pycaret():
    proc = _python(
        "import sys, engine.runner, engine.plans, engine.model_registry\n"
        "assert 'django' not in sys.modules, 'django imported'\n"
        "assert 'pycaret' not in sys.modules, 'pycaret imported'\n"
    )
    assert proc.returncode == 0, proc.stderr


PREFORK_CHILD = """
import sys, tempfile, billiard
from sklearn.datasets import load_breast_cancer

def job(_):
    from engine.runner import ListSink, execute_plan
    data = load_breast_cancer(as_frame=True).frame.head(200)
    result = execute_plan(
        plan={"kind": "create", "model_id": "lr"}, data=data, task="classification",
        target="target", setup_options={"fold": 2, "session_id": 1},
        work_dir=tempfile.mkdtemp(), sink=ListSink(),
    )
    return result.artifact_filename, len(result.plots), "pycaret" in sys.modules

if __name__ == "__main__":
    with billiard.Pool(1) as pool:
        filename, n_plots, child_imported = pool.map(job, [0])[0]
    assert filename == "pipeline.pkl", filename
    assert n_plots == 4, n_plots
    assert child_imported and "pycaret" not in sys.modules
"""


def test_runs_inside_a_prefork_worker_child(tmp_path):
    """Celery's prefork pool forks daemon children with billiard; PyCaret must run there."""
    proc = _python(PREFORK_CHILD, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(tmp_path.iterdir()) == []  # no stray logs.log in the worker's directory


def test_a_time_limit_during_compare_stops_the_run(tmp_path_factory, small_cancer):
    """compare_models swallows model errors; a worker's time limit must still end the run."""

    class SoftTimeLimitExceeded(Exception):  # what Celery raises into a task
        pass

    class TimeLimitedSink(ListSink):
        def event(self, level, message, data=None):
            super().event(level, message, data)
            if message.startswith("compare: "):
                raise SoftTimeLimitExceeded()

    failure, sink = fail(
        tmp_path_factory,
        plan=ComparePlan(include=MODELS),
        data=small_cancer,
        sink=TimeLimitedSink(),
    )
    assert (failure.category, failure.type) == ("ENGINE", "SoftTimeLimitExceeded")
    assert "time limit" in failure.message
    assert len(sink.find("compare: ")) == 1
