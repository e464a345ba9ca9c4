"""`seed_scale`: one workspace at the size a team reaches, written with bulk inserts.

At the default 10,000 runs: 200 experiments, 500 datasets, 50 pipelines and deployments,
100,000 prediction-log rows and 1,000 consultations; `runs` scales all of it in proportion.
Runs carry leaderboards in PyCaret's shape (the task's metrics in leaderboard order), outcomes
and a few events. No PyCaret and no files: the pages tolerate a missing artifact or plot.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from engine.metrics import TRAINING_TIME, task_metrics

BATCH = 2000
DEFAULT_RUNS = 10_000
# Per 10,000 runs.
PER_10K = {
    "projects": 10,
    "experiments": 200,
    "datasets": 500,
    "pipelines": 50,
    "predictions": 100_000,
    "consultations": 1_000,
}
EVENTS_PER_RUN = 3
MODELS = {
    "classification": [
        ("lr", "Logistic Regression"),
        ("dt", "Decision Tree Classifier"),
        ("rf", "Random Forest Classifier"),
        ("ridge", "Ridge Classifier"),
    ],
    "regression": [
        ("lr", "Linear Regression"),
        ("dt", "Decision Tree Regressor"),
        ("rf", "Random Forest Regressor"),
        ("ridge", "Ridge Regression"),
    ],
}
FEATURES = ["age", "tenure", "plan", "spend"]


@dataclass
class Sizes:
    runs: int
    projects: int
    experiments: int
    datasets: int
    pipelines: int
    predictions: int
    consultations: int

    @classmethod
    def for_runs(cls, runs: int) -> Sizes:
        runs = max(1, int(runs))
        scaled = {k: max(1, round(v * runs / DEFAULT_RUNS)) for k, v in PER_10K.items()}
        scaled["experiments"] = min(scaled["experiments"], runs)
        scaled["datasets"] = max(scaled["datasets"], scaled["projects"])
        scaled["pipelines"] = min(scaled["pipelines"], runs)
        return cls(runs=runs, **scaled)


def _bulk(model, objects) -> list:
    return model.objects.bulk_create(objects, batch_size=BATCH)


def _columns() -> list[dict]:
    numeric = {
        "kind": "numeric",
        "dtype": "float64",
        "missing": 0,
        "inf_count": 0,
        "unique": 100,
        "min": 0.0,
        "max": 1.0,
        "mean": 0.5,
        "std": 0.29,
        "histogram": {"edges": [0.0, 0.5, 1.0], "counts": [50, 50]},
    }
    plan = {
        "name": "plan",
        "kind": "categorical",
        "dtype": "string",
        "missing": 0,
        "inf_count": 0,
        "unique": 2,
        "top": [{"value": "a", "count": 60}, {"value": "b", "count": 40}],
    }
    cols = [{"name": n, **numeric} for n in ("age", "tenure", "spend")]
    target = {
        "name": "target",
        "kind": "numeric",
        "dtype": "int64",
        "missing": 0,
        "inf_count": 0,
        "unique": 2,
        "min": 0,
        "max": 1,
        "mean": 0.4,
        "std": 0.49,
        "histogram": {"edges": [-0.5, 0.5, 1.5], "counts": [60, 40]},
    }
    return [*cols[:2], plan, cols[2], target]


def _feature_schema() -> list[dict]:
    return [
        {"name": "age", "dtype": "float64", "kind": "numeric"},
        {"name": "tenure", "dtype": "float64", "kind": "numeric"},
        {"name": "plan", "dtype": "object", "kind": "categorical", "categories": ["a", "b"]},
        {"name": "spend", "dtype": "float64", "kind": "numeric"},
    ]


def _leaderboard(rng: random.Random, task: str, models: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for model_id, name in models:
        row = {"model_id": model_id, "Model": name}
        for metric in task_metrics(task):
            row[metric] = round(rng.uniform(0.55, 0.95), 4)
        row[TRAINING_TIME] = round(rng.uniform(0.01, 2.0), 3)
        rows.append(row)
    sort = task_metrics(task)[0]
    rows.sort(key=lambda r: r[sort], reverse=True)
    return rows


def _run_fields(rng: random.Random, task: str, i: int, now) -> dict:
    """The plan, status, outcome and results of run number `i`."""
    models = MODELS[task]
    kind = ("compare", "create", "tune")[i % 3]
    status = "succeeded" if i % 10 else ("failed" if i % 20 else "cancelled")
    queued = now - timedelta(minutes=i)
    fields = {
        "status": status,
        "queued_at": queued,
        "dispatched_at": queued,
        "started_at": queued + timedelta(seconds=2),
        "finished_at": queued + timedelta(seconds=2 + rng.randint(3, 300)),
    }
    if kind == "compare":
        plan = {"kind": "compare", "n_select": 1, "model_ids": [m[0] for m in models]}
        chosen = models
    else:
        model = models[i % len(models)]
        plan = {"kind": kind, "model_id": model[0]}
        chosen = [model]
    fields["plan"] = plan
    if status != "succeeded":
        if status == "failed":
            fields.update(
                error_category="DATA", error_type="ValueError", error_message="Input has NaN."
            )
        return fields
    board = _leaderboard(rng, task, chosen)
    best = board[0]
    outcome = {}
    if kind == "tune":
        outcome = {"tune": {"kept_original": i % 2 == 0, "metric": task_metrics(task)[0]}}
    fields.update(
        model_id=best["model_id"],
        model_name=best["Model"],
        leaderboard=board,
        leaderboard_sort=task_metrics(task)[0],
        outcome=outcome,
        metrics={k: v for k, v in best.items() if k not in ("model_id", "Model")},
        feature_schema=_feature_schema(),
        progress_done=4,
        progress_total=4,
        environment={"pycaret": "3.3.2", "python": "3.11"},
    )
    return fields


def _experiment_of(i: int, experiments: list):
    """A tenth of the runs go to the first experiment (the busy one a team keeps going back
    to: 1,000 runs at the default size); the rest round-robin over the others."""
    if i % 10 == 1 or len(experiments) == 1:
        return experiments[0]
    return experiments[1 + i % (len(experiments) - 1)]


@transaction.atomic
def scale_seed(*, user, workspace, runs: int = DEFAULT_RUNS, seed: int = 15) -> Sizes:
    """Fill `workspace` (owned by `user`) with `runs` runs and everything in proportion."""
    from copilots.models import Consultation
    from engine.models import (
        Dataset,
        Deployment,
        DeploymentRevision,
        Experiment,
        Pipeline,
        PredictionRequest,
        Project,
        Run,
        RunEvent,
    )

    sizes = Sizes.for_runs(runs)
    rng = random.Random(seed)
    now = timezone.now()
    tag = workspace.slug
    projects = _bulk(
        Project,
        [
            Project(workspace=workspace, name=f"Scale project {p + 1}", created_by=user)
            for p in range(sizes.projects)
        ],
    )
    columns = _columns()
    preview = [{"age": 0.3, "tenure": 0.1, "plan": "a", "spend": 0.7, "target": 1}]
    datasets = _bulk(
        Dataset,
        [
            Dataset(
                project=projects[d % len(projects)],
                name=f"customers-{d + 1}.csv",
                original_filename=f"customers-{d + 1}.csv",
                source_format="csv",
                original_path=f"scale/{tag}/{d}.csv",
                parquet_path=f"scale/{tag}/{d}.parquet",
                sha256="0" * 64,
                size_bytes=4096,
                n_rows=100,
                n_cols=5,
                delimiter=",",
                encoding="utf-8",
                columns=columns,
                preview=preview,
                created_by=user,
                created_at=now - timedelta(hours=d),
            )
            for d in range(sizes.datasets)
        ],
    )
    experiments = []
    for e in range(sizes.experiments):
        dataset = datasets[e % len(datasets)]
        task = "classification" if e % 2 == 0 else "regression"
        experiments.append(
            Experiment(
                project=dataset.project,
                dataset=dataset,
                name=f"Experiment {e + 1}",
                task=task,
                target="target",
                setup_options={"fold": 5, "session_id": 123},
                created_by=user,
                created_at=now - timedelta(hours=e),
            )
        )
    experiments = _bulk(Experiment, experiments)
    run_objects = []
    for i in range(sizes.runs):
        experiment = _experiment_of(i, experiments)
        run_objects.append(
            Run(experiment=experiment, created_by=user, **_run_fields(rng, experiment.task, i, now))
        )
    run_list = _bulk(Run, run_objects)
    RunEvent.objects.bulk_create(
        (
            RunEvent(
                run=run, seq=seq + 1, ts=run.queued_at + timedelta(seconds=seq), message=message
            )
            for run in run_list
            for seq, message in enumerate(
                ("setup done", f"{run.plan['kind']} started", f"run {run.status}")[:EVENTS_PER_RUN]
            )
        ),
        batch_size=BATCH,
    )
    succeeded = [r for r in run_list if r.status == "succeeded"]
    pipelines = _bulk(
        Pipeline,
        [
            Pipeline(
                project=run.experiment.project,
                name=f"model-{p + 1}",
                version=1,
                origin_run=run,
                task=run.experiment.task,
                target="target",
                model_id=run.model_id,
                model_name=run.model_name,
                metrics=run.metrics,
                feature_schema=run.feature_schema,
                target_classes=[0, 1] if run.experiment.task == "classification" else [],
                artifact_path=f"scale/{tag}/pipeline-{p}.pkl",
                artifact_sha256="0" * 64,
                promoted_by=user,
                created_at=now - timedelta(hours=p),
            )
            for p, run in enumerate(succeeded[: sizes.pipelines])
        ],
    )
    deployments = _bulk(
        Deployment,
        [
            Deployment(
                project=p.project, slug=f"{tag}-model-{n + 1}"[:80], pipeline=p, created_by=user
            )
            for n, p in enumerate(pipelines)
        ],
    )
    _bulk(
        DeploymentRevision,
        [
            DeploymentRevision(deployment=d, pipeline=d.pipeline, action="deploy", created_by=user)
            for d in deployments
        ],
    )
    week = 7 * 24 * 3600
    PredictionRequest.objects.bulk_create(
        (
            PredictionRequest(
                deployment=deployments[k % len(deployments)],
                created_at=now - timedelta(seconds=rng.randint(0, week)),
                n_rows=rng.randint(1, 50),
                latency_ms=round(rng.uniform(3, 80), 2),
                status_code=200 if k % 25 else 422,
            )
            for k in range(sizes.predictions)
        ),
        batch_size=BATCH * 5,
    )
    # The deployment pages read whole hours from the hourly summaries: count the new rows in.
    from engine.services.traffic_rollup import traffic_rollup

    traffic_rollup(now=now, recount_from=now - timedelta(seconds=week))
    kinds = ("run_explanation", "dataset_analysis", "experiment_design", "failure_debugging")
    _bulk(
        Consultation,
        [
            Consultation(
                type=kinds[c % len(kinds)],
                provider="offline",
                model="offline",
                offline=True,
                advice={"summary": "Offline advice."},
                created_by=user,
                workspace=workspace,
                project=run.experiment.project,
                experiment=run.experiment,
                run=run,
                created_at=now - timedelta(minutes=c),
            )
            for c, run in enumerate(run_list[: sizes.consultations])
        ],
    )
    return sizes


def analyze_seeded_tables() -> None:
    """Refresh PostgreSQL's planner statistics of the tables just filled. Until autovacuum's
    ANALYZE comes round, the planner believes them nearly empty and picks nested loops over
    every run: the runs page's newest 25 took 125 ms at 10,000 runs instead of 1.3 ms."""
    from django.apps import apps
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    names = [
        "engine.Project",
        "engine.Dataset",
        "engine.Experiment",
        "engine.Run",
        "engine.RunEvent",
        "engine.Pipeline",
        "engine.Deployment",
        "engine.DeploymentRevision",
        "engine.PredictionRequest",
        "copilots.Consultation",
    ]
    tables = ", ".join(connection.ops.quote_name(apps.get_model(n)._meta.db_table) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
