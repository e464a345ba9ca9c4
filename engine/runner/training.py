"""The model-building part of each plan kind, on a PyCaret experiment that has run setup."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.metrics import DEFAULT_METRIC, TRAINING_TIME, strictly_better
from engine.plans import (
    BlendPlan,
    ComparePlan,
    CreatePlan,
    EnsemblePlan,
    Plan,
    TunePlan,
)
from engine.runner import outputs
from engine.runner.compare_hook import CompareMonitor
from engine.runner.errors import ConfigError
from engine.runner.estimators import build_estimator, check_model_id
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import frame_rows, to_jsonable

FOLDS = "_folds"  # a mean row's per-fold scores, until Trainer.run() files them


@dataclass
class Trained:
    model: Any
    model_id: str
    model_name: str
    leaderboard: list[dict[str, Any]]
    metric: str
    extra: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """Runs one plan's training step and reports each model as it finishes."""

    def __init__(self, exp: Any, *, task: str, sink: EventSink, progress: Progress) -> None:
        self.exp = exp
        self.task = task
        self.sink = sink
        self.progress = progress
        self.models = exp.models()
        self.names: dict[str, str] = {str(k): str(v) for k, v in self.models["Name"].items()}
        self.metrics = exp.get_metrics()

    # -- validation -------------------------------------------------------------------------

    def check_model_id(self, model_id: str) -> None:
        check_model_id(self.task, model_id, self.names)

    def resolve_metric(self, name: str | None, *, allow_time: bool = False) -> tuple[str, str]:
        """(display name as in PyCaret's tables, id to pass to PyCaret) for a metric."""
        if name is None:
            name = DEFAULT_METRIC[self.task]
        if allow_time and name in ("TT", TRAINING_TIME):
            return TRAINING_TIME, TRAINING_TIME
        wanted = name.strip().lower()
        for metric_id, row in self.metrics.iterrows():
            candidates = {str(metric_id), str(row["Name"]), str(row["Display Name"])}
            if wanted in {c.lower() for c in candidates}:
                multiclass = getattr(self.exp, "is_multiclass", False)
                if multiclass and not bool(row.get("Multiclass", True)):
                    raise ConfigError(f"Metric {name!r} does not support multiclass targets")
                return str(row["Display Name"]), str(metric_id)
        valid = ", ".join(str(n) for n in self.metrics["Name"])
        raise ConfigError(f"Unknown metric {name!r} for {self.task}; choose one of: {valid}")

    def compare_library(self, include: list[str] | None, exclude: list[str] | None) -> list[str]:
        """The models compare_models will evaluate, in its order."""
        for model_id in (include or []) + (exclude or []):
            self.check_model_id(model_id)
        if include:
            return list(include)
        turbo = [str(k) for k, v in self.models["Turbo"].items() if bool(v)]
        return [m for m in turbo if m not in set(exclude or [])]

    def validate(self, plan: Plan) -> int:
        """Check ids and metrics before any training; returns the number of training steps."""
        if isinstance(plan, ComparePlan):
            self.resolve_metric(plan.sort, allow_time=True)
            library = self.compare_library(plan.include, plan.exclude)
            if not library:
                raise ConfigError("No models left to compare after exclude")
            return len(library)
        if isinstance(plan, CreatePlan):
            self.check_model_id(plan.model_id)
            if plan.params:
                self._build_estimator(plan.model_id, plan.params)
            return 1
        if isinstance(plan, TunePlan):
            self.check_model_id(plan.model_id)
            self.resolve_metric(plan.optimize)
            return 2
        if isinstance(plan, EnsemblePlan):
            self.check_model_id(plan.model_id)
            internal = self.exp.models(internal=True)
            if plan.method == "Boosting" and not bool(
                internal.loc[plan.model_id, "Boosting Supported"]
            ):
                raise ConfigError(
                    f"{plan.model_id} ({self.names[plan.model_id]}) does not support Boosting; "
                    "use Bagging"
                )
            return 2
        if isinstance(plan, BlendPlan):
            if plan.model_ids is not None:
                for model_id in plan.model_ids:
                    self.check_model_id(model_id)
                return len(plan.model_ids) + 1
            library = self.compare_library(plan.include, plan.exclude)
            if len(library) < 2:
                raise ConfigError("Blending needs at least 2 models to compare")
            return len(library) + 1
        raise ConfigError(f"Plan kind {plan.kind!r} does not train a model")

    def _build_estimator(self, model_id: str, params: dict[str, Any]) -> Any:
        return build_estimator(self.exp, model_id, params, self.names)

    # -- helpers ----------------------------------------------------------------------------

    def _mean_row(self, model_id: str, model_name: str) -> dict[str, Any]:
        table = self.exp.pull()
        # a forecaster's fold table has the cutoff date of each fold, which has no mean
        mean = table.loc["Mean"].drop(labels=["cutoff"], errors="ignore")
        row: dict[str, Any] = {"model_id": model_id, "Model": model_name}
        row.update({str(k): to_jsonable(v) for k, v in mean.items()})
        # the per-fold scores travel with the row until run() keeps the chosen model's
        row[FOLDS] = [
            {"Fold": str(index), **{str(k): to_jsonable(v) for k, v in scores.items()}}
            for index, scores in table.drop(index=["Mean", "Std"], errors="ignore").iterrows()
        ]
        return row

    def _create(self, model_id: str, metric: str, params: dict[str, Any] | None = None) -> tuple:
        estimator = self._build_estimator(model_id, params) if params else model_id
        name = self.names[model_id]
        started = time.perf_counter()
        model = self.exp.create_model(estimator, verbose=False)
        elapsed = time.perf_counter() - started
        row = self._mean_row(model_id, name)
        self.sink.event(
            "info",
            f"model created: {model_id} ({name}) {metric} {row.get(metric)}",
            {
                "model_id": model_id,
                "model_name": name,
                "metric": metric,
                "cv_score": row.get(metric),
                "elapsed_s": round(elapsed, 3),
            },
        )
        self.progress.step()
        return model, row

    def _compare(
        self,
        *,
        include: list[str] | None,
        exclude: list[str] | None,
        n_select: int,
        sort: str | None = None,
        budget_time: float | None = None,
        fold: int | None = None,
    ) -> tuple[list[Any], list[dict[str, Any]], str]:
        metric, metric_arg = self.resolve_metric(sort, allow_time=True)
        library = self.compare_library(include, exclude)
        self.sink.event(
            "info",
            f"compare started: {len(library)} models, sorted by {metric}",
            {"models": library, "metric": metric, "n_select": n_select},
        )
        kwargs: dict[str, Any] = {
            "include": include,
            "exclude": exclude,
            "n_select": n_select,
            "budget_time": budget_time,
            "fold": fold,
            "sort": metric_arg if sort is not None else None,
        }
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        monitor = CompareMonitor(
            self.exp,
            sink=self.sink,
            progress=self.progress,
            metric=metric,
            model_names=self.names,
            n_models=len(library),
        )
        try:
            with monitor:
                best = self.exp.compare_models(verbose=False, **kwargs)
        except Exception as exc:
            if not monitor.scored and monitor.failed:
                raise RuntimeError(_all_failed(monitor.failed)) from exc
            raise
        if not monitor.scored:
            raise RuntimeError(_all_failed(monitor.failed))
        leaderboard = frame_rows(self.exp.pull(), index_name="model_id")
        self.sink.event(
            "info",
            f"compare done: best {leaderboard[0]['model_id']} ({leaderboard[0].get('Model')})",
            {"metric": metric, "leaderboard": leaderboard},
        )
        selected = best if isinstance(best, list) else [best]
        return selected, leaderboard, metric

    # -- plan kinds -------------------------------------------------------------------------

    def run(self, plan: Plan) -> Trained:
        """Train `plan`. A plan that trains one model (create, tune, ensemble, blend) records
        that model's per-fold cross-validation scores in its outcome, as `cv_folds`."""
        trained = self._train(plan)
        rows = list(trained.leaderboard)
        rows += [r for r in (trained.outcome.get("tune") or {}).values() if isinstance(r, dict)]
        folds = [row.pop(FOLDS, None) for row in rows]
        if len(trained.leaderboard) == 1 and folds[0]:
            trained.outcome["cv_folds"] = folds[0]
        return trained

    def _train(self, plan: Plan) -> Trained:
        if isinstance(plan, ComparePlan):
            selected, leaderboard, metric = self._compare(
                include=plan.include,
                exclude=plan.exclude,
                n_select=plan.n_select,
                sort=plan.sort,
                budget_time=plan.budget_time,
                fold=plan.fold,
            )
            best_id = str(leaderboard[0]["model_id"])
            return Trained(
                selected[0],
                best_id,
                self.names.get(best_id, str(leaderboard[0].get("Model"))),
                leaderboard,
                metric,
                {"selected": [row["model_id"] for row in leaderboard[: len(selected)]]},
            )
        if isinstance(plan, CreatePlan):
            metric = DEFAULT_METRIC[self.task]
            model, row = self._create(plan.model_id, metric, plan.params)
            return Trained(model, plan.model_id, self.names[plan.model_id], [row], metric)
        if isinstance(plan, TunePlan):
            return self._tune(plan)
        if isinstance(plan, EnsemblePlan):
            return self._ensemble(plan)
        if isinstance(plan, BlendPlan):
            return self._blend(plan)
        raise ConfigError(f"Plan kind {plan.kind!r} does not train a model")

    def _tune(self, plan: TunePlan) -> Trained:
        metric, metric_arg = self.resolve_metric(plan.optimize)
        base, base_row = self._create(plan.model_id, metric)
        name = self.names[plan.model_id]
        self.sink.event(
            "info",
            f"tune started: {plan.model_id} ({name}), {plan.n_iter} iterations on {metric}",
            {
                "model_id": plan.model_id,
                "n_iter": plan.n_iter,
                "metric": metric,
                "baseline_cv_score": base_row.get(metric),
            },
        )
        # PyCaret's own choose_better would refit the original for a second cross-validation
        # and then report the tuned scores either way; the same choice is made here from the
        # two cross-validations already run, so the run can say which model it kept.
        kwargs: dict[str, Any] = {"n_iter": plan.n_iter, "choose_better": False}
        if plan.optimize is not None:
            kwargs["optimize"] = metric_arg
        started = time.perf_counter()
        tuned_model, tuner = self.exp.tune_model(base, verbose=False, return_tuner=True, **kwargs)
        elapsed = time.perf_counter() - started
        tuned_row = self._mean_row(plan.model_id, name)
        best_params = {
            str(k).split("__")[-1]: to_jsonable(v)
            for k, v in (getattr(tuner, "best_params_", None) or {}).items()
        }
        baseline, tuned = base_row.get(metric), tuned_row.get(metric)
        kept_original = not strictly_better(metric, tuned, baseline)
        model, row = (base, base_row) if kept_original else (tuned_model, tuned_row)
        outcome = {
            "kept_original": kept_original,
            "metric": metric,
            "original_cv": baseline,
            "tuned_cv": tuned,
            "original_row": base_row,
            "tuned_row": tuned_row,
            "best_params": best_params,
            "trials": outputs.tuning_trials(tuner, metric),
        }
        verdict = "kept the original model" if kept_original else "kept the tuned model"
        self.sink.event(
            "info",
            f"tune finished: {plan.model_id} {metric} {baseline} → {tuned}; {verdict}",
            {
                "model_id": plan.model_id,
                "n_iter": plan.n_iter,
                "metric": metric,
                "baseline_cv_score": baseline,
                "best_cv_score": tuned,
                "kept_original": kept_original,
                "best_params": best_params,
                "elapsed_s": round(elapsed, 3),
            },
        )
        self.progress.step()
        extra = {"best_params": best_params}
        return Trained(model, plan.model_id, name, [row], metric, extra, {"tune": outcome})

    def _ensemble(self, plan: EnsemblePlan) -> Trained:
        metric = DEFAULT_METRIC[self.task]
        base, base_row = self._create(plan.model_id, metric)
        name = f"{self.names[plan.model_id]} ({plan.method})"
        started = time.perf_counter()
        model = self.exp.ensemble_model(
            base, method=plan.method, n_estimators=plan.n_estimators, verbose=False
        )
        elapsed = time.perf_counter() - started
        row = self._mean_row(plan.model_id, name)
        self.sink.event(
            "info",
            f"ensemble done: {name} {metric} {base_row.get(metric)} → {row.get(metric)}",
            {
                "model_id": plan.model_id,
                "method": plan.method,
                "n_estimators": plan.n_estimators,
                "metric": metric,
                "baseline_cv_score": base_row.get(metric),
                "cv_score": row.get(metric),
                "elapsed_s": round(elapsed, 3),
            },
        )
        self.progress.step()
        return Trained(model, plan.model_id, name, [row], metric)

    def _blend(self, plan: BlendPlan) -> Trained:
        metric = DEFAULT_METRIC[self.task]
        if plan.model_ids is not None:
            member_ids = list(plan.model_ids)
            members = []
            for model_id in member_ids:
                # blend_models cross-validates the ensemble itself; members only need a fit
                members.append(
                    self.exp.create_model(model_id, cross_validation=False, verbose=False)
                )
                self.sink.event(
                    "info",
                    f"blend member fitted: {model_id} ({self.names[model_id]})",
                    {"model_id": model_id, "model_name": self.names[model_id]},
                )
                self.progress.step()
        else:
            members, leaderboard, metric = self._compare(
                include=plan.include, exclude=plan.exclude, n_select=plan.top_n
            )
            member_ids = [str(row["model_id"]) for row in leaderboard[: len(members)]]
            if len(members) < 2:
                raise ConfigError(
                    f"Only {len(members)} model(s) succeeded in compare; blending needs 2"
                )
        started = time.perf_counter()
        model = self.exp.blend_models(members, verbose=False)
        elapsed = time.perf_counter() - started
        kind = "Classifier" if self.task == "classification" else "Regressor"
        name = f"Voting {kind} ({', '.join(member_ids)})"
        row = self._mean_row("blend", name)
        self.sink.event(
            "info",
            f"blend done: {name} {metric} {row.get(metric)}",
            {
                "model_ids": member_ids,
                "metric": metric,
                "cv_score": row.get(metric),
                "elapsed_s": round(elapsed, 3),
            },
        )
        self.progress.step()
        return Trained(model, "blend", name, [row], metric, {"members": member_ids})


def _all_failed(failed: dict[str, str]) -> str:
    detail = "; ".join(f"{k}: {v}" for k, v in failed.items()) or "no model finished"
    return f"Every model failed during compare ({detail})"
