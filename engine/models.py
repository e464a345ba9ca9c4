"""The engine's domain: projects, datasets, experiments, runs and their event streams."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Workspace


class Task(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"
    CLUSTERING = "clustering", "Clustering"
    ANOMALY = "anomaly", "Anomaly detection"
    TIME_SERIES = "time_series", "Time-series forecasting"


class Project(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="project_name_per_workspace")
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """An uploaded table, validated and stored as Parquet next to the original bytes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    original_filename = models.CharField(max_length=255)
    source_format = models.CharField(max_length=16)
    original_path = models.CharField(max_length=255, help_text="Relative to MEDIA_ROOT.")
    parquet_path = models.CharField(max_length=255, help_text="Relative to MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    n_rows = models.PositiveIntegerField()
    n_cols = models.PositiveIntegerField()
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    columns = models.JSONField(default=list, help_text="The column profile.")
    preview = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from lists.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    def column(self, name: str) -> dict | None:
        return next((c for c in self.columns if c["name"] == name), None)


class Experiment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="experiments")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="experiments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task = models.CharField(max_length=32, choices=Task.choices)
    # Empty for clustering and anomaly detection, which learn from every column.
    target = models.CharField(max_length=255, blank=True)
    setup_options = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from lists.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class ErrorCategory(models.TextChoices):
    DATA = "DATA", "Data"
    CONFIG = "CONFIG", "Configuration"
    ENGINE = "ENGINE", "Engine"


class Run(models.Model):
    """One execution of a plan. Its state lives here, never in Celery's result backend."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    plan = models.JSONField()
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_error = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Results.
    model_id = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    leaderboard = models.JSONField(default=list, blank=True)
    leaderboard_sort = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    plots = models.JSONField(default=list, blank=True)
    preprocessing = models.JSONField(default=dict, blank=True)
    feature_schema = models.JSONField(default=list, blank=True)
    model_params = models.JSONField(default=dict, blank=True)
    target_classes = models.JSONField(default=list, blank=True)
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the model found beyond its scores: cluster sizes, flagged rows, or the "
        "series and its forecast.",
    )
    environment = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the training step decided beyond the leaderboard, e.g. "
        '{"tune": {"kept_original": true, ...}} when tuning did not beat the original model.',
    )
    artifact_path = models.CharField(
        max_length=255, blank=True, help_text="Relative to MEDIA_ROOT."
    )
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    # Failure.
    error_category = models.CharField(max_length=16, choices=ErrorCategory.choices, blank=True)
    error_type = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    error_traceback = models.TextField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from lists.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at", "-id"]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.plan.get('kind', '?')}, {self.status})"

    @property
    def label(self) -> str:  # the run's one name on every page and message: "Run #2 · compare"
        return f"Run #{self.pk} · {self.plan.get('kind', '?')}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def status_detail(self) -> str:
        """One plain sentence on where the run is, for the API and the page."""
        if self.status == RunStatus.QUEUED:
            if self.dispatched_at is None:
                if self.dispatch_error:
                    return (
                        "Waiting for the queue: the job queue could not be reached, so this run "
                        "has not been sent to a worker yet. It is saved and will be sent "
                        "automatically when the queue is back."
                    )
                return "Waiting for the queue: the run is being sent to the workers."
            return "Queued: waiting for a free worker."
        if self.status == RunStatus.RUNNING:
            if self.cancel_requested:
                return "Cancelling: the job is being stopped."
            return "Running."
        if self.status == RunStatus.SUCCEEDED:
            return "Succeeded."
        if self.status == RunStatus.FAILED:
            return f"Failed ({self.error_category or 'ENGINE'}): {self.error_message}"
        return "Cancelled."

    @property
    def best_score(self) -> tuple[str, object] | None:
        """(metric, value) of the chosen model's cross-validation row, for run lists."""
        if not self.leaderboard or not self.leaderboard_sort:
            return None
        row = next((r for r in self.leaderboard if r.get("model_id") == self.model_id), None)
        row = row or self.leaderboard[0]
        value = row.get(self.leaderboard_sort)
        return (self.leaderboard_sort, value) if value is not None else None

    @property
    def kept_original(self) -> dict | None:
        """The tune outcome when tuning did not beat the original model, which was kept."""
        tune = (self.outcome or {}).get("tune") or {}
        return tune if tune.get("kept_original") else None

    @property
    def progress_percent(self) -> int:
        if self.status == RunStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    ts = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=16, default="info")
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="run_event_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.message}"


class Pipeline(models.Model):
    """A promoted run artifact: versioned per project and name."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pipelines")
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    origin_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="pipelines")
    task = models.CharField(max_length=32, choices=Task.choices)
    target = models.CharField(max_length=255, blank=True)
    model_id = models.CharField(max_length=64)
    model_name = models.CharField(max_length=200, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Snapshot at promotion.")
    feature_schema = models.JSONField(default=list, blank=True)
    target_classes = models.JSONField(default=list, blank=True)
    artifact_path = models.CharField(max_length=255, help_text="Relative to MEDIA_ROOT.")
    artifact_sha256 = models.CharField(max_length=64)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name", "version"], name="pipeline_version_per_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Deployment(models.Model):
    """A prediction endpoint at a globally unique slug, serving one pipeline version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deployments")
    slug = models.SlugField(max_length=80, unique=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deployments")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.slug


class DeploymentRevision(models.Model):
    """The deployment's history: every deploy, rollback, deactivation and activation."""

    class Action(models.TextChoices):
        DEPLOY = "deploy", "Deployed"
        ROLLBACK = "rollback", "Rolled back"
        DEACTIVATE = "deactivate", "Deactivated"
        ACTIVATE = "activate", "Activated"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="revisions")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    warning = models.TextField(
        blank=True,
        help_text="Set when the pipeline was deployed over a warning: no review, or a review "
        "that said DO NOT DEPLOY, with the risks it named.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} pipeline {self.pipeline_id} on {self.deployment_id}"


class PredictionRequest(models.Model):
    """One predict call: size, latency and outcome, for the deployment page's counters."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="prediction_requests"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    n_rows = models.PositiveIntegerField(default=0)
    # A forecast request asks for periods, not rows: its horizon (fh).
    horizon = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(default=0)
    status_code = models.PositiveSmallIntegerField(default=200)
    # "api" for a predict call (the page's form too); "batch" for one chunk of a batch CSV.
    source = models.CharField(max_length=8, default="api")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "created_at"], name="request_recent")]

    def __str__(self) -> str:
        if self.horizon is not None:
            return f"forecast of {self.horizon} on {self.deployment_id}: {self.status_code}"
        return f"{self.n_rows} rows on {self.deployment_id}: {self.status_code}"


class PredictionSample(models.Model):
    """A bounded reservoir of recent inputs (and their predictions) per deployment, for drift."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="samples")
    created_at = models.DateTimeField(default=timezone.now)
    inputs = models.JSONField()
    prediction = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["deployment", "-id"], name="sample_recent")]

    def __str__(self) -> str:
        return f"sample {self.pk} of {self.deployment_id}"


class BatchPrediction(models.Model):
    """A CSV scored by a Celery task; the output's formula-leading cells are escaped."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="batch_predictions"
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    input_filename = models.CharField(max_length=255)
    input_path = models.CharField(max_length=255, help_text="Relative to MEDIA_ROOT.")
    output_path = models.CharField(max_length=255, blank=True)
    n_rows = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.input_filename}, {self.status})"
