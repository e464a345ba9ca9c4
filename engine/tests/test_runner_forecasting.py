"""Time-series forecasting in the runner, against bare PyCaret on the same series built by hand."""

import numpy as np
import pandas as pd
import pytest

from engine.metrics import task_metrics
from engine.runner import ListSink, RunFailure, execute_plan
from engine.tests.factories import monthly_series_frame, pycaret_experiment

pytestmark = pytest.mark.filterwarnings("ignore")

OPTIONS = {"date_column": "month", "fh": 12, "fold": 2, "session_id": 123}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(tmp_path_factory, *, plan, data=None, options=None, target="passengers"):
    sink = ListSink()
    work_dir = tmp_path_factory.mktemp("series")
    result = execute_plan(
        plan=plan,
        data=monthly_series_frame() if data is None else data,
        task="time_series",
        target=target,
        setup_options=OPTIONS if options is None else options,
        work_dir=work_dir,
        sink=sink,
    )
    return result, sink, work_dir


def fail(tmp_path_factory, **kwargs) -> RunFailure:
    with pytest.raises(RunFailure) as info:
        run(tmp_path_factory, **kwargs)
    return info.value


def by_hand() -> pd.Series:
    """The same series as the dataset's, built by hand: the values on a monthly PeriodIndex."""
    frame = monthly_series_frame()
    index = pd.period_range("1949-01", periods=len(frame), freq="M")
    return pd.Series(frame["passengers"].to_numpy(dtype=float), index=index, name="passengers")


@pytest.fixture(scope="module")
def bare():
    exp = pycaret_experiment("time_series")
    exp.setup(by_hand(), fh=12, fold=2, session_id=123, verbose=False, html=False, system_log=False)
    return exp


@pytest.fixture(scope="module")
def arima_run(tmp_path_factory):
    return run(tmp_path_factory, plan={"kind": "create", "model_id": "arima"})


def test_create_equals_bare_pycaret_on_the_series_built_by_hand(arima_run, bare):
    result, _, _ = arima_run
    model = bare.create_model("arima", verbose=False)
    mean = bare.pull().loc["Mean"]
    [row] = result.leaderboard
    assert (row["model_id"], row["Model"]) == ("arima", "ARIMA")
    assert list(row)[2:] == task_metrics("time_series")
    for metric in task_metrics("time_series"):
        assert round(row[metric], 4) == round(float(mean[metric]), 4), metric
    assert result.leaderboard_sort == "MASE"
    bare.predict_model(model, verbose=False)
    holdout = bare.pull().iloc[0]
    for metric in task_metrics("time_series"):
        assert round(result.holdout_metrics[metric], 4) == round(float(holdout[metric]), 4)


def test_the_pipeline_is_refitted_on_the_whole_series_and_forecasts_after_it(arima_run, bare):
    result, _, work_dir = arima_run
    summary = result.summary
    assert (summary["frequency"], summary["first"], summary["last"]) == ("M", "1949-01", "1960-12")
    assert summary["points"] == 144
    assert [p["period"] for p in summary["forecast"]][:2] == ["1961-01", "1961-02"]
    assert len(summary["forecast"]) == 12
    assert summary["prediction_interval"] is True
    exp = pycaret_experiment("time_series")
    pipeline = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    expected = exp.predict_model(pipeline, fh=12, return_pred_int=True, round=10, verbose=False)
    assert [p["value"] for p in summary["forecast"]] == pytest.approx(
        expected["y_pred"].tolist(), abs=1e-6
    )
    assert [p["lower"] for p in summary["forecast"]] == pytest.approx(
        expected["lower"].tolist(), abs=1e-6
    )
    final = bare.finalize_model(bare.create_model("arima", verbose=False))
    by_hand_forecast = bare.predict_model(final, fh=12, verbose=False)["y_pred"]
    assert [p["value"] for p in summary["forecast"]] == pytest.approx(
        by_hand_forecast.tolist(),
        abs=1e-4,  # predict_model rounds to 4 decimals
    )
    assert summary["history"][-1] == {"period": "1960-12", "value": by_hand().iloc[-1]}


def test_forecast_and_residual_plots_are_pngs(arima_run):
    result, sink, work_dir = arima_run
    assert [p["name"] for p in result.plots] == ["forecast", "residuals"]
    assert not [e for e in sink.events if e["level"] != "info"]
    for plot in result.plots:
        assert (work_dir / plot["filename"]).read_bytes().startswith(PNG_MAGIC)
    assert not sink.messages("warning")
    assert result.feature_schema == []


def test_the_dates_may_come_in_any_order(tmp_path_factory, arima_run):
    shuffled = monthly_series_frame().sample(frac=1, random_state=0)
    result, _, _ = run(
        tmp_path_factory, plan={"kind": "create", "model_id": "arima"}, data=shuffled
    )
    assert result.leaderboard == arima_run[0].leaderboard


def test_tune_reports_its_baseline_and_best_parameters(tmp_path_factory):
    result, sink, _ = run(tmp_path_factory, plan={"kind": "tune", "model_id": "naive", "n_iter": 2})
    finished = sink.find("tune finished")[0]["data"]
    assert finished["metric"] == "MASE"
    assert finished["best_params"]
    assert result.leaderboard[0]["MASE"] == finished["best_cv_score"]


def _frame(**changes) -> pd.DataFrame:
    frame = monthly_series_frame()
    for column, (row, value) in changes.items():
        if isinstance(value, str):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (_frame(month=(7, "not a date")), None, "do not parse as dates: 'not a date' (row 8)"),
        (_frame(month=(5, "1949-05")), None, "Dates repeat in 'month': 1949-05-01 (2 rows)"),
        (monthly_series_frame().drop(index=[10]), None, "not evenly spaced"),
        (_frame(passengers=(3, "many")), None, "Target column 'passengers' is not numeric"),
        (_frame(passengers=(3, np.nan)), None, "1 missing value(s) (at 1949-04)"),
        (
            monthly_series_frame().head(30),
            None,
            "The series has 30 points; fh=12 with fold=2 needs at least 39",
        ),
    ],
    ids=["unparseable-date", "duplicated-date", "gap", "text-target", "missing-value", "short"],
)
def test_bad_series_fail_as_data_naming_the_problem(tmp_path_factory, data, options, message):
    failure = fail(tmp_path_factory, plan={"kind": "create", "model_id": "naive"}, data=data)
    assert failure.category == "DATA"
    assert message in failure.message


def test_too_few_points_for_the_horizon_and_folds_is_a_data_failure(tmp_path_factory):
    failure = fail(
        tmp_path_factory,
        plan={"kind": "create", "model_id": "naive"},
        options={**OPTIONS, "fh": 36, "fold": 3},
    )
    assert failure.category == "DATA"
    assert "fh=36 with fold=3 needs at least 147" in failure.message


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"kind": "ensemble", "model_id": "arima"}, "'ensemble' does not apply"),
        ({"kind": "create", "model_id": "arma"}, "Closest valid ids: arima"),
        ({"kind": "compare", "sort": "Accuracy"}, "Unknown metric 'Accuracy'"),
    ],
)
def test_plans_time_series_cannot_run_fail_as_config(tmp_path_factory, plan, message):
    failure = fail(tmp_path_factory, plan=plan)
    assert failure.category == "CONFIG"
    assert message in failure.message


def test_forecasting_metrics_are_pycarets(bare):
    assert task_metrics("time_series") == bare.get_metrics()["Display Name"].tolist()
