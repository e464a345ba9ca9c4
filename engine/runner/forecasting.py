"""Time-series forecasting runs: the series from the dataset's date and value columns, setup,
compare/create/tune, the holdout window's metrics, and the model refitted on the whole series
(finalize_model) as the pipeline, so a deployment forecasts the periods after the last date.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from engine.plans import PLOTS, Plan, SetupPlan, TimeSeriesOptions
from engine.runner import figures, outputs
from engine.runner.checks import with_run_n_jobs
from engine.runner.errors import ConfigError, DataError
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import to_jsonable
from engine.runner.result import RunResult
from engine.timeseries import SeriesProblem, build_series, check_length

# How much of the series a run keeps for the charts of its page and its deployment.
HISTORY_POINTS = 240


def series_or_failure(
    data: pd.DataFrame, *, target: str, options: TimeSeriesOptions, fold: int | None
) -> pd.Series:
    try:
        series = build_series(data, date_column=options.date_column, target=target)
        check_length(len(series), fh=options.fh, fold=fold or options.fold)
    except SeriesProblem as problem:
        raise (ConfigError if problem.category == "CONFIG" else DataError)(
            problem.message
        ) from None
    return series


def forecast_rows(predicted: pd.DataFrame) -> list[dict[str, Any]]:
    """``[{period, value, lower?, upper?}]``: lower and upper where the model gives them."""
    rows = []
    for period, row in predicted.iterrows():
        item: dict[str, Any] = {"period": str(period), "value": float(row["y_pred"])}
        if "lower" in row and pd.notna(row["lower"]) and pd.notna(row["upper"]):
            item["lower"], item["upper"] = float(row["lower"]), float(row["upper"])
        rows.append(item)
    return rows


def future(exp: Any, final: Any) -> pd.DataFrame:
    """The setup's horizon after the series, with a 90% interval where the model gives one:
    predict_model's own computation, without the test metrics it would try (and fail, with
    a warning per metric) to score a forecast of periods that have not happened yet."""
    import copy

    from pycaret.utils.time_series.forecasting import get_predictions_with_intervals

    return get_predictions_with_intervals(
        forecaster=copy.deepcopy(final),
        alpha=None,
        coverage=0.9,
        X=None,
        fh=exp.fh,
        merge=True,
        round=None,
    )


def execute_forecasting(
    *,
    exp: Any,
    plan: Plan,
    data: pd.DataFrame,
    target: str,
    options: TimeSeriesOptions,
    work_dir: Path,
    sink: EventSink,
    dataset_sha256: str,
) -> RunResult:
    series = series_or_failure(
        data, target=target, options=options, fold=getattr(plan, "fold", None)
    )
    progress = Progress(sink, 1)
    kwargs = with_run_n_jobs(options.to_setup_kwargs())
    index = series.index
    sink.event(
        "info",
        "setup started",
        {
            "task": "time_series",
            "target": target,
            "points": len(series),
            "frequency": index.freqstr,
            "first": str(index[0]),
            "last": str(index[-1]),
            "options": to_jsonable(kwargs),
        },
    )
    exp.setup(series, verbose=False, html=False, system_log=False, **kwargs)
    preprocessing = outputs.setup_summary(exp)
    sink.event("info", "setup done", {"preprocessing": preprocessing})
    result = RunResult(
        model_id=None,
        model_name=None,
        environment=outputs.environment(exp, dataset_sha256),
        preprocessing=preprocessing,
        summary={
            "date_column": options.date_column,
            "frequency": index.freqstr,
            "points": len(series),
            "first": str(index[0]),
            "last": str(index[-1]),
            "fh": options.fh,
        },
    )
    if isinstance(plan, SetupPlan):
        progress.finish()
        return result

    from engine.runner.training import Trainer

    trainer = Trainer(exp, task="time_series", sink=sink, progress=progress)
    training_steps = trainer.validate(plan)
    # setup + training + holdout + refit on the whole series + plots + artifact
    progress.set_total(1 + training_steps + 1 + 1 + len(PLOTS["time_series"]) + 1)
    progress.step()

    trained = trainer.run(plan)
    result.model_id, result.model_name = trained.model_id, trained.model_name
    result.leaderboard = [
        {k: v for k, v in row.items() if k != "cutoff"} for row in trained.leaderboard
    ]
    result.leaderboard_sort = trained.metric
    result.model_params = outputs.model_params(trained.model)
    progress.advance_to(1 + training_steps)

    result.holdout_metrics = outputs.holdout_metrics(exp, trained.model)
    sink.event(
        "info",
        "holdout evaluation",
        {"model_id": trained.model_id, "metrics": result.holdout_metrics},
    )
    progress.step()

    final = exp.finalize_model(trained.model)
    predicted = future(exp, final)
    forecast = forecast_rows(predicted)
    result.summary.update(
        {
            "history": [
                {"period": str(p), "value": float(v)}
                for p, v in series.tail(HISTORY_POINTS).items()
            ],
            "forecast": forecast,
            "prediction_interval": bool(forecast) and "lower" in forecast[0],
        }
    )
    sink.event(
        "info",
        f"refitted on all {len(series)} points; forecast {forecast[0]['period']} to "
        f"{forecast[-1]['period']}",
        {"model_id": trained.model_id, "forecast": forecast},
    )
    progress.step()

    result.plots = outputs.save_plots(
        exp,
        trained.model,
        names=PLOTS["time_series"],
        work_dir=work_dir,
        sink=sink,
        progress=progress,
        drawn=_drawn_plots(exp, trained.model, series, predicted, trained.model_name),
    )
    filename, sha256 = outputs.save_artifact(exp, final, work_dir)
    result.artifact_filename, result.artifact_sha256 = filename, sha256
    sink.event("info", "artifact saved", {"filename": filename, "sha256": sha256})
    progress.finish()
    return result


def _drawn_plots(exp: Any, model: Any, series: pd.Series, predicted: pd.DataFrame, name: str):
    def forecast(path: Path) -> None:
        figures.forecast(series, predicted, title=f"Forecast of {series.name} by {name}", path=path)

    def residuals(path: Path) -> None:
        with warnings.catch_warnings():
            # PyCaret also scores the in-sample predictions against the test window,
            # and warns a traceback for each metric it cannot compute; the residuals are fine
            warnings.filterwarnings("ignore", category=UserWarning, module="pycaret.utils.generic")
            data = exp.plot_model(model, plot="residuals", return_data=True, verbose=False)
        values = data["overlay_data"]
        values = values.iloc[:, 0] if isinstance(values, pd.DataFrame) else values
        figures.residuals(values, title=f"In-sample residuals of {name}", path=path)

    return {"forecast": forecast, "residuals": residuals}
