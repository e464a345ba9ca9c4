"""execute_plan: run one plan on a DataFrame with PyCaret and describe what came out."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from engine.plans import PLOTS, TASKS, Plan, SetupOptions, SetupPlan, parse_plan
from engine.runner import outputs
from engine.runner.checks import check_inputs, setup_kwargs
from engine.runner.errors import (
    ConfigError,
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
    from pycaret.regression import RegressionExperiment

    return RegressionExperiment()


def _coerce(plan: Any, setup_options: Any, task: str) -> tuple[Plan, SetupOptions]:
    if task not in TASKS:
        raise ConfigError(f"Unsupported task {task!r}; the runner supports {', '.join(TASKS)}")
    if isinstance(plan, dict):
        plan = parse_plan(plan)
    if setup_options is None:
        setup_options = SetupOptions()
    elif isinstance(setup_options, dict):
        setup_options = SetupOptions.model_validate(setup_options)
    return plan, setup_options


def execute_plan(
    *,
    plan: Plan | dict[str, Any],
    data: pd.DataFrame,
    task: str,
    target: str,
    setup_options: SetupOptions | dict[str, Any] | None = None,
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
    target: str,
    setup_options: Any,
    work_dir: Path,
    sink: EventSink,
    dataset_sha256: str,
) -> RunResult:
    plan, options = _coerce(plan, setup_options, task)
    work_dir.mkdir(parents=True, exist_ok=True)
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
        exp, trained.model, task=task, work_dir=work_dir, sink=sink, progress=progress
    )

    filename, sha256 = outputs.save_artifact(exp, trained.model, work_dir)
    result.artifact_filename, result.artifact_sha256 = filename, sha256
    sink.event("info", "artifact saved", {"filename": filename, "sha256": sha256})
    progress.finish()
    return result


__all__ = ["execute_plan", "RunFailure"]
