"""API schemas for runs."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema


class RunIn(Schema):
    plan: dict[str, Any] = Field(
        ...,
        description='The plan, for example {"kind": "compare", "include": ["lr", "dt"]}.',
        examples=[{"kind": "compare", "include": ["lr", "dt", "nb"], "fold": 3}],
    )


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class RunErrorOut(Schema):
    category: str
    type: str
    message: str


class PlotOut(Schema):
    name: str
    url: str


class RunOut(Schema):
    id: int
    experiment_id: int
    status: str
    status_detail: str = Field(..., description="One plain sentence on where the run is.")
    dispatched: bool = Field(..., description="False while the run waits for the job queue.")
    dispatch_error: str | None
    cancel_requested: bool
    plan: dict[str, Any]
    progress: ProgressOut
    model_id: str | None
    model_name: str | None
    leaderboard: list[dict[str, Any]]
    leaderboard_sort: str | None
    metrics: dict[str, Any]
    summary: dict[str, Any] = Field(
        ...,
        description="What the model found beyond its scores. Clustering: {rows, clusters: "
        "[{label, rows, share}]}. Anomaly detection: {rows, flagged, flagged_share, fraction, "
        "top: [{row, score, values}]}. Time series: {frequency, first, last, points, fh, "
        "history, forecast: [{period, value, lower?, upper?}]}. Empty for the other tasks.",
    )
    plots: list[PlotOut]
    artifact_sha256: str | None
    environment: dict[str, Any]
    outcome: dict[str, Any] = Field(
        default_factory=dict,
        description="What training decided beyond the leaderboard. A tune run has "
        '`{"tune": {"kept_original", "metric", "original_cv", "tuned_cv", ...}}`: when tuning '
        "did not beat the original model, PyCaret's rule keeps the original, and the "
        "leaderboard and metrics are the original's. A create, tune, ensemble or blend run "
        'records its model\'s per-fold cross-validation scores as `{"cv_folds": [{"Fold", '
        "<metric>: value, ...}]}`.",
    )
    error: RunErrorOut | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None = Field(
        None,
        description="The Celery worker that ran it (its --hostname, e.g. worker1@host-a); null "
        "before a worker claims it.",
    )
    archived_at: datetime | None = Field(None, description="Set while it is archived.")

    @staticmethod
    def resolve_dispatched(obj) -> bool:
        return obj.dispatched_at is not None

    @staticmethod
    def resolve_dispatch_error(obj) -> str | None:
        return obj.dispatch_error or None

    @staticmethod
    def resolve_progress(obj) -> dict:
        return {
            "done": obj.progress_done,
            "total": obj.progress_total,
            "percent": obj.progress_percent,
        }

    @staticmethod
    def resolve_model_id(obj) -> str | None:
        return obj.model_id or None

    @staticmethod
    def resolve_model_name(obj) -> str | None:
        return obj.model_name or None

    @staticmethod
    def resolve_leaderboard_sort(obj) -> str | None:
        return obj.leaderboard_sort or None

    @staticmethod
    def resolve_worker(obj) -> str | None:
        return obj.worker or None

    @staticmethod
    def resolve_artifact_sha256(obj) -> str | None:
        return obj.artifact_sha256 or None

    @staticmethod
    def resolve_plots(obj) -> list[dict]:
        return [
            {"name": p["name"], "url": reverse("api:runs_plot", args=[obj.pk, p["name"]])}
            for p in obj.plots
        ]

    @staticmethod
    def resolve_error(obj) -> dict | None:
        if not obj.error_category:
            return None
        return {
            "category": obj.error_category,
            "type": obj.error_type,
            "message": obj.error_message,
        }


class RunEventOut(Schema):
    seq: int
    ts: datetime
    level: str
    message: str
    data: dict[str, Any]


# Comparing runs.


class CompareRunOut(Schema):
    id: int
    label: str = Field(..., description='The run\'s name on every page: "Run #2 · compare".')
    experiment_id: int
    status: str
    model_id: str | None
    model_name: str | None
    duration_s: float | None


class CompareSettingOut(Schema):
    name: str = Field(
        ..., description="experiment, task, target, dataset, plan.<key> or setup.<option>."
    )
    values: list[str] = Field(..., description="One per run, in the order of `runs`.")
    differs: bool


class CompareMetricOut(Schema):
    source: str = Field(..., description="cv (the chosen model's cross-validated mean) or holdout.")
    name: str
    higher_is_better: bool
    values: list[Any] = Field(..., description="One per run; null where the run has none.")
    best: list[bool] = Field(
        ..., description="True for the best value of the row, by the metric's direction."
    )


class CompareFoldsOut(Schema):
    run_id: int
    recorded: bool = Field(..., description="False where the run recorded no per-fold scores.")
    columns: list[str]
    rows: list[dict[str, Any]]


class ComparePlotRunOut(Schema):
    run_id: int
    present: bool
    url: str | None


class ComparePlotOut(Schema):
    name: str
    runs: list[ComparePlotRunOut]


class CompareOut(Schema):
    runs: list[CompareRunOut]
    settings: list[CompareSettingOut]
    metrics: list[CompareMetricOut]
    folds: list[CompareFoldsOut]
    plots: list[ComparePlotOut]

    @staticmethod
    def resolve_plots(obj) -> list[dict]:
        return [
            {
                "name": plot["name"],
                "runs": [
                    {
                        **cell,
                        "url": reverse("api:runs_plot", args=[cell["run_id"], plot["name"]])
                        if cell["present"]
                        else None,
                    }
                    for cell in plot["runs"]
                ],
            }
            for plot in obj["plots"]
        ]
