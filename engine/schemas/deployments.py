"""API schemas for deployments: deploy, predict, drift, history and batch scoring."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema


class DeployIn(Schema):
    slug: str | None = Field(
        None,
        max_length=80,
        description="Globally unique; lowercase letters, digits and hyphens. Defaults to the "
        "pipeline's name. A slug of the same project gets the new version.",
    )
    acknowledge_risks: bool = Field(
        False,
        description="Deploy even though the pipeline's latest review said DO NOT DEPLOY, or it "
        "has no review. Without it such a deploy answers 409 `confirmation_required`, whose "
        "body names the risks (`reason`, `verdict`, `risks`); with it the deployment's history "
        "records that it was deployed over a warning. A pipeline whose latest review approved "
        "it (with or without caveats) deploys without it.",
    )


class DeploymentOut(Schema):
    id: int
    slug: str
    pipeline_id: int
    version: int
    name: str
    is_active: bool
    project_id: int
    created_at: datetime
    updated_at: datetime
    url: str = Field(..., description="The absolute URL to POST predictions to.")
    page_url: str

    @staticmethod
    def resolve_version(obj) -> int:
        return obj.pipeline.version

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.pipeline.name

    @staticmethod
    def resolve_url(obj, context) -> str:
        path = reverse("api:deployment_predict", kwargs={"slug": obj.slug})
        request = context.get("request") if context else None
        return request.build_absolute_uri(path) if request is not None else path

    @staticmethod
    def resolve_page_url(obj) -> str:
        return reverse("deployment_detail", args=[obj.slug])


class RevisionOut(Schema):
    action: str
    pipeline_id: int
    version: int
    warning: str | None = Field(
        None, description="Set when this version was deployed over a warning, and why."
    )
    created_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_version(obj) -> int:
        return obj.pipeline.version

    @staticmethod
    def resolve_warning(obj) -> str | None:
        return obj.warning or None

    @staticmethod
    def resolve_created_by(obj) -> str | None:
        return obj.created_by.username if obj.created_by_id else None


class PredictIn(Schema):
    rows: list[dict[str, Any]] | None = Field(
        None,
        description="Classification, regression, clustering and anomaly detection: one object "
        "per row, {column: value}. Every training feature is needed (null for unknown); other "
        "columns are ignored and reported.",
        examples=[[{"mean radius": 14.1, "mean texture": 19.3}]],
    )
    fh: int | None = Field(
        None,
        description="Time-series forecasting only (instead of rows): how many periods after "
        "the series' last date to forecast, 1 to 1000.",
        examples=[12],
    )


class PredictOut(Schema):
    predictions: list[dict[str, Any]] = Field(
        ...,
        description="Classification: {label, score, probabilities} where score is the "
        "probability of the predicted label and probabilities maps every class to its "
        "probability. Regression: {label, value}, both the predicted value. Clustering: "
        '{label} such as "Cluster 2". Anomaly detection: {label, score}, label 1 for an '
        "anomaly and score the detector's anomaly score. Time series: {period, value, lower?, "
        "upper?}, one per period, lower and upper bounding a 90% prediction interval where "
        "the model gives one.",
    )
    pipeline_id: int
    version: int
    ignored_columns: list[str]
    warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Values the model never saw in training, one entry per categorical column: "
        "{column, values, rows, message}. Those rows were still scored, as if the value were "
        "missing.",
    )


class DriftFeatureOut(Schema):
    name: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    histogram: dict[str, Any] | None


class DriftOut(Schema):
    status: str = Field(
        ...,
        description="ok; not_enough_data below 30 logged rows; not_applicable for a "
        "time-series deployment, which takes no input rows.",
    )
    detail: str
    reference_rows: int
    current_rows: int
    drift_share: float | None
    dataset_drift: bool | None
    features: list[DriftFeatureOut]
    prediction_drift: dict[str, Any] | None


class StatsOut(Schema):
    hours: int
    requests: int
    rows: int = Field(..., description="Rows scored: by predict calls and by batch CSVs.")
    batch_rows: int = Field(0, description="Of `rows`, how many were scored in batch CSVs.")
    errors: int
    p50_ms: float | None
    p95_ms: float | None


class BatchOut(Schema):
    id: int
    deployment_slug: str
    pipeline_id: int
    status: str
    input_filename: str
    n_rows: int
    progress_done: int
    progress_total: int
    error_message: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None

    @staticmethod
    def resolve_deployment_slug(obj) -> str:
        return obj.deployment.slug

    @staticmethod
    def resolve_error_message(obj) -> str | None:
        return obj.error_message or None

    @staticmethod
    def resolve_download_url(obj) -> str | None:
        if obj.status != "succeeded" or not obj.output_path:
            return None
        return reverse("batch_download", args=[obj.pk])
