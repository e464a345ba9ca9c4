"""Projects and what they hold before any run: datasets and experiments."""

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
        indexes = [models.Index(fields=["project", "-created_at"], name="dataset_project_recent")]

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
        indexes = [
            models.Index(fields=["project", "-created_at"], name="experiment_project_recent")
        ]

    def __str__(self) -> str:
        return self.name
