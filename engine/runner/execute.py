"""execute_plan: run one plan on a DataFrame with PyCaret and describe what came out."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from engine.capabilities import plan_problems
from engine.plans import (
    PLOTS,
    TASKS,
    UNSUPERVISED_TASKS,
    Plan,
    SetupOptions,
    SetupPlan,
    TimeSeriesOptions,
    parse_plan,
    parse_setup_options,
)
from engine.runner import outputs
from engine.runner.checks import check_inputs, setup_kwargs
from engine.runner.errors import (
    ConfigError,
    DataError,
    RunCancelled,
    RunFailure,
    RunInterrupted,
    failure_from_exception,
)
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import to_jsonable
from engine.runner.result import RunResult


def prepare_pycaret_import() -> None:
    """Environment PyCaret reads at import: a headless plot backend, and no logs.log.

    PyCaret opens ``./logs.log`` at import time whatever ``system_log`` says; the run's
    events are its log, so unless the deployment points PYCARET_CUSTOM_LOGGING_PATH
    somewhere, that file goes to the null device.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYCARET_CUSTOM_LOGGING_PATH", os.devnull)


def _experiment(task: str) -> Any:
    # PyCaret takes seconds to import: only the worker pays for it, and only here.
    prepare_pycaret_import()
    if task == "classification":
        from pycaret.classification import ClassificationExperiment

        return ClassificationExperiment()
    if task == "regression":
        from pycaret.regression import RegressionExperiment

        return RegressionExperiment()
    if task == "clustering":
        from pycaret.clustering import ClusteringExperiment

        return ClusteringExperiment()
    if task == "anomaly":
        from pycaret.anomaly import AnomalyExperiment

        return AnomalyExperiment()
    from pycaret.time_series import TSForecastingExperiment

    return TSForecastingExperiment()


def _coerce(
    plan: Any, setup_options: Any, task: str
) -> tuple[Plan, SetupOptions | TimeSeriesOptions]:
    if task not in TASKS:
        raise ConfigError(f"Unsupported task {task!r}; the runner supports {', '.join(TASKS)}")
    if isinstance(plan, dict):
        plan = parse_plan(plan)
    try:
        options = parse_setup_options(task, setup_options)
    except ValueError as exc:
        if type(exc).__module__.startswith("pydantic"):
            raise
        raise ConfigError(str(exc)) from exc
    problems = plan_problems(plan, task)
    if problems:
        raise ConfigError(" ".join(message for _, message in problems))
    return plan, options


def execute_plan(
    *,
    plan: Plan | dict[str, Any],
    data: pd.DataFrame,
    task: str,
    target: str | None,
    setup_options: SetupOptions | TimeSeriesOptions | dict[str, Any] | None = None,
    work_dir: Path | str,
    sink: EventSink,
    dataset_sha256: str = "",
) -> RunResult:
    """Run ``plan`` and return its result, or raise ``RunFailure`` with a category.

    Events and progress go to ``sink``; plots and the pipeline are written into ``work_dir``.
    ``RunCancelled`` propagates unchanged when the sink asks to stop.
    """
    started = time.perf_counter()
    try:
        result = _execute(
            plan=plan,
            data=data,
            task=task,
            target=target,
            setup_options=setup_options,
            work_dir=Path(work_dir),
            sink=sink,
            dataset_sha256=dataset_sha256,
        )
    except RunCancelled:
        raise  # the caller reports the cancellation
    except (Exception, RunInterrupted) as caught:
        exc = caught.original if isinstance(caught, RunInterrupted) else caught
        failure = failure_from_exception(exc)
        sink.event(
            "error",
            f"{failure.category}: {failure.message}",
            {"category": failure.category, "type": failure.type},
        )
        if failure is exc:
            raise
        raise failure from exc
    elapsed = time.perf_counter() - started
    sink.event("info", f"run finished in {elapsed:.1f}s", {"elapsed_s": round(elapsed, 3)})
    return result


def _execute(
    *,
    plan: Any,
    data: pd.DataFrame,
    task: str,
    target: str | None,
    setup_options: Any,
    work_dir: Path,
    sink: EventSink,
    dataset_sha256: str,
) -> RunResult:
    plan, options = _coerce(plan, setup_options, task)
    work_dir.mkdir(parents=True, exist_ok=True)
    common = {"plan": plan, "data": data, "work_dir": work_dir, "sink": sink}
    if task in UNSUPERVISED_TASKS:
        from engine.runner.unsupervised import execute_unsupervised

        if not isinstance(data, pd.DataFrame):
            raise DataError(f"Expected a pandas DataFrame, got {type(data).__name__}")
        return execute_unsupervised(
            exp=_experiment(task),
            task=task,
            options=options,
            dataset_sha256=dataset_sha256,
            **common,
        )
    if task == "time_series":
        from engine.runner.forecasting import execute_forecasting

        if not isinstance(data, pd.DataFrame):
            raise DataError(f"Expected a pandas DataFrame, got {type(data).__name__}")
        if not target:
            raise ConfigError("A time-series run needs the series' column as its target")
        return execute_forecasting(
            exp=_experiment(task),
            target=target,
            options=options,
            dataset_sha256=dataset_sha256,
            **common,
        )
    if not target:
        raise ConfigError(f"A {task} run needs a target column")
    plan_fold = getattr(plan, "fold", None)
    checked = check_inputs(data=data, task=task, target=target, options=options, fold=plan_fold)
    for warning in checked.warnings:
        sink.event("warning", warning)
    frame = checked.data

    progress = Progress(sink, 1)
    kwargs = setup_kwargs(task, options)
    sink.event(
        "info",
        "setup started",
        {
            "task": task,
            "target": target,
            "rows": len(frame),
            "columns": len(frame.columns),
            "options": to_jsonable(kwargs),
        },
    )
    exp = _experiment(task)
    exp.setup(frame, target=target, verbose=False, html=False, system_log=False, **kwargs)
    preprocessing = outputs.setup_summary(exp)
    if checked.dropped_missing_target:
        preprocessing["Rows dropped (missing target)"] = checked.dropped_missing_target
    sink.event("info", "setup done", {"preprocessing": preprocessing})

    result = RunResult(
        model_id=None,
        model_name=None,
        environment=outputs.environment(exp, dataset_sha256),
        preprocessing=preprocessing,
        feature_schema=outputs.feature_schema(frame, target, options),
        target_classes=outputs.target_classes(frame, target, task),
    )
    if isinstance(plan, SetupPlan):
        progress.finish()
        return result

    from engine.runner.training import Trainer

    trainer = Trainer(exp, task=task, sink=sink, progress=progress)
    training_steps = trainer.validate(plan)
    # setup + training + holdout + plots + artifact
    progress.set_total(1 + training_steps + 1 + len(PLOTS[task]) + 1)
    progress.step()  # setup

    trained = trainer.run(plan)
    result.model_id = trained.model_id
    result.model_name = trained.model_name
    result.leaderboard = trained.leaderboard
    result.leaderboard_sort = trained.metric
    result.model_params = outputs.model_params(trained.model)
    result.outcome = trained.outcome
    progress.advance_to(1 + training_steps)

    result.holdout_metrics = outputs.holdout_metrics(exp, trained.model)
    sink.event(
        "info",
        "holdout evaluation",
        {"model_id": trained.model_id, "metrics": result.holdout_metrics},
    )
    progress.step()

    result.plots = outputs.save_plots(
        exp, trained.model, names=PLOTS[task], work_dir=work_dir, sink=sink, progress=progress
    )

    filename, sha256 = outputs.save_artifact(exp, trained.model, work_dir)
    result.artifact_filename, result.artifact_sha256 = filename, sha256
    sink.event("info", "artifact saved", {"filename": filename, "sha256": sha256})
    progress.finish()
    return result


__all__ = ["execute_plan", "RunFailure"]
