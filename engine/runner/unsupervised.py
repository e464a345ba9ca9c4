"""Clustering and anomaly-detection runs: setup on every column, one create_model, what the
model found (cluster sizes, flagged rows), plots and the pipeline file.

PyCaret has no holdout for these tasks: it scores a clustering on the rows it was fitted on,
and scores no anomaly detector at all, so a run's metrics are those (or the flagged count).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from engine.capabilities import plots_to_draw
from engine.plans import TASK_LABELS, CreatePlan, Plan, SetupOptions, SetupPlan
from engine.runner import figures, outputs
from engine.runner.checks import check_unsupervised_inputs, setup_kwargs
from engine.runner.errors import ConfigError
from engine.runner.estimators import build_estimator, check_model_id
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import to_jsonable
from engine.runner.result import RunResult

TOP_FLAGGED = 10
SHOWN_FEATURES = 12
# create_model's own arguments set these; as params they would be silently overridden.
RESERVED_PARAMS = {
    "clustering": ("n_clusters", "num_clusters"),
    "anomaly": ("contamination", "fraction"),
}


def execute_unsupervised(
    *,
    exp: Any,
    plan: Plan,
    data: pd.DataFrame,
    task: str,
    options: SetupOptions,
    work_dir: Path,
    sink: EventSink,
    dataset_sha256: str,
) -> RunResult:
    checked = check_unsupervised_inputs(data=data, options=options)
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
            "rows": len(frame),
            "columns": len(frame.columns),
            "options": to_jsonable(kwargs),
        },
    )
    exp.setup(frame, verbose=False, html=False, system_log=False, **kwargs)
    preprocessing = outputs.setup_summary(exp)
    sink.event("info", "setup done", {"preprocessing": preprocessing})
    result = RunResult(
        model_id=None,
        model_name=None,
        environment=outputs.environment(exp, dataset_sha256),
        preprocessing=preprocessing,
        feature_schema=outputs.feature_schema(frame, None, options),
    )
    if isinstance(plan, SetupPlan):
        progress.finish()
        return result
    if not isinstance(plan, CreatePlan):
        raise ConfigError(f"Plan kind {plan.kind!r} does not apply to {TASK_LABELS[task]}")

    names = {str(k): str(v) for k, v in exp.models()["Name"].items()}
    check_model_id(task, plan.model_id, names)
    _check_task_arguments(exp, plan, task, names)
    if plan.num_clusters is not None and plan.num_clusters > len(frame):
        raise ConfigError(
            f"num_clusters={plan.num_clusters} is more than the dataset's {len(frame)} rows"
        )
    plot_names = plots_to_draw(plan, task)
    # setup + create + what it found + plots + artifact
    progress.set_total(1 + 1 + 1 + len(plot_names) + 1)
    progress.step()

    model = _create(exp, plan, task, names, sink)
    progress.step()
    result.model_id, result.model_name = plan.model_id, names[plan.model_id]
    result.model_params = outputs.model_params(model)
    assigned = exp.assign_model(model, verbose=False)
    if task == "clustering":
        row = _clustering_row(exp, plan.model_id, names[plan.model_id])
        result.summary = cluster_summary(assigned["Cluster"], model)
        result.leaderboard_sort = "Silhouette"
    else:
        result.summary = anomaly_summary(assigned, fraction=_fraction(plan, model))
        row = {
            "model_id": plan.model_id,
            "Model": names[plan.model_id],
            "Flagged": result.summary["flagged"],
            "Flagged share": result.summary["flagged_share"],
        }
    result.leaderboard = [row]
    result.holdout_metrics = {k: v for k, v in row.items() if k != "model_id"}
    sink.event("info", "model summary", {"model_id": plan.model_id, "summary": result.summary})
    progress.step()

    drawn = _drawn_plots(exp, model, assigned, task, names[plan.model_id])
    result.plots = outputs.save_plots(
        exp,
        model,
        names=plot_names,
        work_dir=work_dir,
        sink=sink,
        progress=progress,
        drawn=drawn,
    )
    filename, sha256 = outputs.save_artifact(exp, model, work_dir)
    result.artifact_filename, result.artifact_sha256 = filename, sha256
    sink.event("info", "artifact saved", {"filename": filename, "sha256": sha256})
    progress.finish()
    return result


def _check_task_arguments(exp: Any, plan: CreatePlan, task: str, names: dict[str, str]) -> None:
    reserved = [p for p in plan.params if p in RESERVED_PARAMS.get(task, ())]
    if reserved:
        use = "num_clusters" if task == "clustering" else "fraction"
        raise ConfigError(f"Set {use} in the plan rather than {reserved[0]!r} in params")
    if plan.num_clusters is not None:
        internal = exp.models(internal=True)
        cls, args = internal.loc[plan.model_id, "Class"], internal.loc[plan.model_id, "Args"]
        if "n_clusters" not in cls(**dict(args or {})).get_params(deep=False):
            raise ConfigError(
                f"num_clusters does not apply to {plan.model_id} ({names[plan.model_id]}): it "
                "finds the number of clusters itself"
            )
    if plan.params:
        build_estimator(exp, plan.model_id, plan.params, names)


def _create(exp: Any, plan: CreatePlan, task: str, names: dict[str, str], sink) -> Any:
    kwargs: dict[str, Any] = dict(plan.params)
    if plan.num_clusters is not None:
        kwargs["num_clusters"] = plan.num_clusters
    if plan.fraction is not None:
        kwargs["fraction"] = plan.fraction
    started = time.perf_counter()
    model = exp.create_model(plan.model_id, verbose=False, **kwargs)
    elapsed = time.perf_counter() - started
    sink.event(
        "info",
        f"model created: {plan.model_id} ({names[plan.model_id]})",
        {
            "model_id": plan.model_id,
            "model_name": names[plan.model_id],
            "elapsed_s": round(elapsed, 3),
        },
    )
    return model


def _clustering_row(exp: Any, model_id: str, name: str) -> dict[str, Any]:
    """PyCaret's metrics row, without the ones that need a ground truth (reported as 0)."""
    table = exp.pull()
    needs_truth = exp.get_metrics()["Needs Ground Truth"]
    dropped = {
        str(row["Display Name"])
        for metric_id, row in exp.get_metrics().iterrows()
        if bool(needs_truth.loc[metric_id])
    }
    row: dict[str, Any] = {"model_id": model_id, "Model": name}
    for column, value in table.iloc[0].items():
        if str(column) not in dropped:
            # PyCaret rounds to 4 decimals, some of them in float32: keep what it printed
            value = to_jsonable(value)
            row[str(column)] = round(value, 4) if isinstance(value, float) else value
    return row


def cluster_summary(labels: pd.Series, model: Any) -> dict[str, Any]:
    counts = labels.value_counts()
    order = sorted(counts.index, key=lambda label: int(str(label).rsplit(" ", 1)[-1]))
    total = int(counts.sum())
    return {
        "rows": total,
        "clusters": [
            {"label": str(label), "rows": int(counts[label]), "share": float(counts[label] / total)}
            for label in order
        ],
        # agglomerative, spectral, DBSCAN and OPTICS label their training rows only
        "can_predict": callable(getattr(model, "predict", None)),
    }


def _fraction(plan: CreatePlan, model: Any) -> float | None:
    if plan.fraction is not None:
        return plan.fraction
    return to_jsonable(getattr(model, "contamination", None))


def anomaly_summary(assigned: pd.DataFrame, *, fraction: float | None) -> dict[str, Any]:
    flags = assigned["Anomaly"].astype(int)
    scores = assigned["Anomaly_Score"].astype(float)
    features = [c for c in assigned.columns if c not in ("Anomaly", "Anomaly_Score")]
    flagged = assigned[flags == 1]
    top = flagged.assign(_score=scores[flags == 1]).sort_values("_score", ascending=False)
    top = top.head(TOP_FLAGGED)
    positions = {label: i for i, label in enumerate(assigned.index)}
    return {
        "rows": len(assigned),
        "flagged": int(flags.sum()),
        "flagged_share": round(float(flags.mean()), 6),
        "fraction": fraction,
        "features": features[:SHOWN_FEATURES],
        "top": [
            {
                "row": positions[label] + 1,
                "score": float(row["_score"]),
                "values": {
                    c: to_jsonable(assigned.at[label, c]) for c in features[:SHOWN_FEATURES]
                },
            }
            for label, row in top.iterrows()
        ],
        "can_predict": True,
    }


def _drawn_plots(exp: Any, model: Any, assigned: pd.DataFrame, task: str, name: str) -> dict:
    """The plots PyCaret would save as HTML, drawn as PNG from the same data."""
    column = "Cluster" if task == "clustering" else "Anomaly"
    labels = assigned[column].tolist()

    def features() -> pd.DataFrame:
        transformed = exp.assign_model(model, transformation=True, verbose=False)
        return pd.get_dummies(transformed.drop(columns=[column, "Anomaly_Score"], errors="ignore"))

    def cluster(path: Path) -> None:
        from sklearn.decomposition import PCA

        points = PCA(n_components=2, random_state=exp.seed).fit_transform(features())
        figures.scatter_by_label(
            points,
            labels,
            title=f"Clusters of {name} (2-D PCA)",
            axes_labels=("PCA1", "PCA2"),
            path=path,
        )

    def distribution(path: Path) -> None:
        counts = pd.Series(labels).value_counts()
        order = sorted(counts.index, key=lambda label: int(str(label).rsplit(" ", 1)[-1]))
        figures.bars(
            [str(o) for o in order],
            [int(counts[o]) for o in order],
            title=f"Cluster sizes of {name}",
            ylabel="rows",
            path=path,
        )

    def tsne(path: Path) -> None:
        from sklearn.manifold import TSNE

        data = features()
        perplexity = min(30.0, max(1.0, (len(data) - 1) / 3))
        points = TSNE(n_components=2, random_state=exp.seed, perplexity=perplexity).fit_transform(
            data
        )
        figures.scatter_by_label(
            points, labels, title=f"t-SNE of {name}", axes_labels=("t-SNE 1", "t-SNE 2"), path=path
        )

    def umap(path: Path) -> None:
        import umap as umap_learn

        points = umap_learn.UMAP(random_state=exp.seed).fit_transform(features())
        figures.scatter_by_label(
            points, labels, title=f"UMAP of {name}", axes_labels=("UMAP 1", "UMAP 2"), path=path
        )

    drawn = {"tsne": tsne, "umap": umap}
    if task == "clustering":
        drawn.update(cluster=cluster, distribution=distribution)
    return drawn
