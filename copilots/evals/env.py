"""The evaluation cases' objects, made through the studio's own services in one throwaway
project: datasets (real ingestion), experiments, runs (failed or trained by the real runner, or
recorded with exact scores), pipelines and deployments with logged inputs."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone


class Env:
    """Builds a case's objects through the studio's own services, in one throwaway project."""

    def __init__(self) -> None:
        from accounts.services import user_signup
        from engine.services.projects import project_create

        self.user = user_signup(
            username=f"copilot-eval-{uuid.uuid4().hex[:8]}", password=uuid.uuid4().hex
        )
        workspace = self.user.memberships.first().workspace
        self.project = project_create(
            workspace=workspace, name="Copilot evaluation", user=self.user
        )

    def dataset(self, frame, name: str):
        from engine.services.datasets import dataset_ingest

        data = frame.to_csv(index=False).encode()
        return dataset_ingest(
            project=self.project,
            file=ContentFile(data, name=name),
            filename=name,
            name=name,
            user=self.user,
        )

    def experiment(self, dataset, target: str, task: str = "classification", setup=None, **kw):
        """Through the experiment service; `raw=True` writes the row as it is (a target the
        service would refuse, as an older row or a re-uploaded dataset can hold)."""
        from engine.models import Experiment
        from engine.services.experiments import experiment_create

        name = kw.get("name") or f"{target} ({task})"
        if kw.get("raw"):
            return Experiment.objects.create(
                project=self.project,
                dataset=dataset,
                name=name,
                task=task,
                target=target,
                setup_options=setup or {},
            )
        return experiment_create(
            project=self.project,
            dataset=dataset,
            name=name,
            task=task,
            target=target,
            setup=setup,
            user=self.user,
        )

    def _running(self, experiment, plan: dict[str, Any]):
        from engine.models import Run, RunStatus

        return Run.objects.create(
            experiment=experiment, plan=plan, status=RunStatus.RUNNING, started_at=timezone.now()
        )

    def _execute(self, run, experiment):
        """Execute the run's plan with the real runner in a local folder, the pipeline and
        plots then saved to the storage as the worker saves them: its RunResult, or
        RunFailure raised."""
        from engine import storage
        from engine.ingest import read_parquet_frame
        from engine.runner import ListSink, execute_plan
        from engine.selectors.datasets import dataset_parquet_file
        from engine.services.execution import store_run_files

        with (
            dataset_parquet_file(experiment.dataset) as parquet,
            storage.work_dir(prefix=f"run-{run.pk}-") as work_dir,
        ):
            result = execute_plan(
                plan=run.plan,
                data=read_parquet_frame(parquet),
                task=experiment.task,
                target=experiment.target,
                setup_options=experiment.setup_options,
                work_dir=work_dir,
                sink=ListSink(),
                dataset_sha256=experiment.dataset.sha256,
            )
            store_run_files(run.pk, work_dir, result, move=True)
        return result

    def failed_run(self, experiment, plan: dict[str, Any]):
        """Execute `plan` with the real runner and record its failure as the worker does."""
        from engine.runner import RunFailure
        from engine.services.runs import run_fail

        run = self._running(experiment, plan)
        try:
            self._execute(run, experiment)
        except RunFailure as failure:
            run_fail(
                run_id=run.pk,
                category=failure.category,
                error_type=failure.type,
                message=failure.message,
                traceback=failure.traceback,
            )
        else:
            raise AssertionError(f"the plan {plan} did not fail")
        run.refresh_from_db()
        return run

    def trained_run(self, experiment, plan: dict[str, Any]):
        """Train `plan` for real and record the run as the worker records a success: in a
        local folder, its pipeline and plots then saved to the storage."""
        from engine.services.execution import _record_success

        run = self._running(experiment, plan)
        result = self._execute(run, experiment)
        assert _record_success(run, result)
        run.refresh_from_db()
        return run

    def recorded_run(self, experiment, *, leaderboard, metrics, **fields):
        """A succeeded run with the scores and summaries a runner would record, written as
        they are: the property a case is about is exact, and no model is trained."""
        from copilots.rules.environment import serving_environment
        from engine.models import Run, RunStatus

        ignored = set((experiment.setup_options or {}).get("ignore_features") or [])
        schema = [
            {"name": c["name"], "dtype": c["dtype"], "kind": c["kind"]}
            for c in experiment.dataset.columns
            if c["name"] != experiment.target and c["name"] not in ignored
        ]
        train_rows = int(experiment.dataset.n_rows * 0.7)
        now = timezone.now()
        defaults = {
            "plan": {"kind": "compare"},
            "leaderboard_sort": "Accuracy" if experiment.task == "classification" else "R2",
            "preprocessing": {
                "Transformed train set shape": [train_rows, len(schema)],
                "Imputation type": "simple",
                "Maximum one-hot encoding": 25,
            },
            "environment": {**serving_environment(), "numpy": "1.26.4", "session_id": 123},
            "feature_schema": schema,
            "model_params": {},
        }
        defaults.update(fields)
        return Run.objects.create(
            experiment=experiment,
            status=RunStatus.SUCCEEDED,
            started_at=now,
            finished_at=now,
            model_id=leaderboard[0]["model_id"],
            model_name=leaderboard[0].get("Model", ""),
            leaderboard=leaderboard,
            metrics=metrics,
            artifact_path=f"runs/eval/{uuid.uuid4().hex}.pkl",
            artifact_sha256="e" * 64,
            **defaults,
        )

    def pipeline(self, run, name: str = "eval-model"):
        from engine.services.pipelines import pipeline_promote

        return pipeline_promote(run=run, user=self.user, name=name)

    def deployment(self, pipeline, samples):
        import json

        from engine.models import Deployment, PredictionSample

        deployment = Deployment.objects.create(
            project=self.project, slug=f"eval-{uuid.uuid4().hex[:10]}", pipeline=pipeline
        )
        rows = json.loads(samples.to_json(orient="records"))
        PredictionSample.objects.bulk_create(
            PredictionSample(deployment=deployment, inputs=row, prediction=None) for row in rows
        )
        return deployment
