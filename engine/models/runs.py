"""Runs and their event streams."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from engine.models.projects import Experiment


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
    worker = models.CharField(
        max_length=255, blank=True, help_text="The Celery worker (its --hostname) that ran it."
    )
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
        indexes = [
            # The dashboard's recent runs and the Runs page: newest first, read from the top.
            models.Index(fields=["-queued_at", "-id"], name="run_recent"),
            # An experiment's runs table and its API list, newest first.
            models.Index(fields=["experiment", "-queued_at", "-id"], name="run_experiment_recent"),
            # Counting the runs not archived (the Runs page's pages): an index-only scan per
            # experiment instead of reading every run (19 ms to 2 ms at 10,000 runs).
            models.Index(
                fields=["experiment"],
                condition=models.Q(archived_at__isnull=True),
                name="run_live_by_experiment",
            ),
        ]

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
