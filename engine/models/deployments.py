"""Promoted pipelines, their deployments, and what serving records: requests, samples, batches."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from engine.models.projects import Project, Task
from engine.models.runs import Run, RunStatus


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
