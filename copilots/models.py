"""A Consultation: one call to a copilot, stored whether it succeeded or failed."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConsultationType(models.TextChoices):
    DATASET_ANALYSIS = "dataset_analysis", "Dataset analysis"
    EXPERIMENT_DESIGN = "experiment_design", "Experiment design"
    RUN_EXPLANATION = "run_explanation", "Run explanation"
    FAILURE_DEBUGGING = "failure_debugging", "Failure debugging"
    DEPLOYMENT_REVIEW = "deployment_review", "Deployment review"
    DRIFT_ANALYSIS = "drift_analysis", "Drift analysis"


class Consultation(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    type = models.CharField(max_length=32, choices=ConsultationType.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    provider = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=200, blank=True)
    offline = models.BooleanField(default=False)
    messages = models.JSONField(default=list, blank=True)
    raw_response = models.TextField(blank=True)
    advice = models.JSONField(default=dict, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Correlation: every FK that applies is filled, so audit can join across objects.
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="consultations"
    )
    project = models.ForeignKey(
        "engine.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dataset = models.ForeignKey(
        "engine.Dataset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    experiment = models.ForeignKey(
        "engine.Experiment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        "engine.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pipeline = models.ForeignKey(
        "engine.Pipeline", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deployment = models.ForeignKey(
        "engine.Deployment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # The consultations list: a workspace's newest first.
        indexes = [models.Index(fields=["workspace", "-created_at"], name="consultation_recent")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk}"
