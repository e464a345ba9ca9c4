"""Per-model events during compare_models, without changing what compare_models computes.

compare_models cross-validates each candidate through ``exp._create_model(..., refit=False)``
and then pops the fold table from the experiment's display container. We shadow
``_create_model`` on the experiment instance for the duration of the call, let the original
run untouched, and read (without popping) the fold table it just pushed. The final refits of
the selected models use ``refit`` left at True and pass straight through.
"""

from __future__ import annotations

import time
from typing import Any

from engine.runner.errors import RunInterrupted, is_interrupt
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import to_jsonable


class CompareMonitor:
    def __init__(
        self,
        exp: Any,
        *,
        sink: EventSink,
        progress: Progress,
        metric: str,
        model_names: dict[str, str],
        n_models: int,
    ) -> None:
        self.exp = exp
        self.sink = sink
        self.progress = progress
        self.metric = metric
        self.model_names = model_names
        self.n_models = n_models
        self.scored: list[str] = []
        self.failed: dict[str, str] = {}
        self._pending_failure: tuple[str, str] | None = None
        self._original = None
        self._start_done = 0

    def __enter__(self) -> CompareMonitor:
        self._original = self.exp._create_model
        self._start_done = self.progress.done
        self.exp._create_model = self._create_model
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.exp.__dict__.pop("_create_model", None)
        if exc_info[0] is None:
            self._flush_failure()
            # budget_time may stop compare early: count the skipped models as done
            self.progress.advance_to(self._start_done + self.n_models)

    def _model_id(self, estimator: Any) -> str:
        return estimator if isinstance(estimator, str) else type(estimator).__name__

    def _flush_failure(self) -> None:
        if self._pending_failure is None:
            return
        model_id, reason = self._pending_failure
        self._pending_failure = None
        self.failed[model_id] = reason
        self.sink.event(
            "warning",
            f"compare: {model_id} ({self.model_names.get(model_id, model_id)}) failed "
            "and was left out",
            {"model_id": model_id, "model_name": self.model_names.get(model_id), "error": reason},
        )
        self.progress.step()

    def _create_model(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("refit", True) is not False:
            return self._original(*args, **kwargs)
        estimator = kwargs.get("estimator", args[0] if args else None)
        model_id = self._model_id(estimator)
        # compare_models catches every Exception around this call and moves on to the next
        # model, so our own errors (a failing sink, a time limit) escape as RunInterrupted.
        try:
            if self._pending_failure is not None and self._pending_failure[0] != model_id:
                self._flush_failure()
            self.progress.check_cancelled()
        except Exception as exc:
            raise RunInterrupted(exc) from exc
        started = time.perf_counter()
        try:
            result = self._original(*args, **kwargs)
        except Exception as exc:
            if is_interrupt(exc):
                raise RunInterrupted(exc) from exc
            self._pending_failure = (model_id, f"{type(exc).__name__}: {exc}")
            raise
        try:
            self._observe(model_id, result, time.perf_counter() - started)
        except Exception as exc:
            raise RunInterrupted(exc) from exc
        return result

    def _observe(self, model_id: str, result: Any, elapsed: float) -> None:
        model, fit_time = result
        if model is None:  # PyCaret's own time budget ran out inside create_model
            return
        table = self.exp.pull()
        mean = table.loc["Mean"] if "Mean" in table.index else table.iloc[0]
        numeric = mean.drop(labels=["cutoff"], errors="ignore")
        if float(numeric.astype(float).sum()) == 0.0:
            # compare_models treats an all-zero row as a failure and retries once
            self._pending_failure = (model_id, "every metric was 0 (the model failed to fit)")
            return
        self._pending_failure = None
        if self.metric in mean.index:
            score = to_jsonable(mean[self.metric])
        else:  # sorting by training time
            score = to_jsonable(round(float(fit_time), 4))
        self.scored.append(model_id)
        name = self.model_names.get(model_id, model_id)
        self.sink.event(
            "info",
            f"compare: {model_id} ({name}) {self.metric} {score} in {elapsed:.1f}s",
            {
                "model_id": model_id,
                "model_name": name,
                "metric": self.metric,
                "cv_score": score,
                "elapsed_s": round(elapsed, 3),
                "index": len(self.scored) + len(self.failed),
                "total": self.n_models,
            },
        )
        self.progress.step()
