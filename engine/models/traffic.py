"""The prediction log rolled up by the hour, so the deployment page's 24-hour and 7-day figures
read a few summary rows instead of scanning the log (see engine/services/traffic_rollup.py)."""

from django.db import models

from engine.models.deployments import Deployment


class PredictionHour(models.Model):
    """One deployment's predict traffic in one UTC hour, counted from its PredictionRequests.

    Latencies are kept as a histogram: `latency_histogram` maps a bucket index i to how many
    successful predict calls took between LATENCY_GROWTH**i and LATENCY_GROWTH**(i+1) ms."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField(help_text="The start of the hour (UTC).")
    requests = models.PositiveIntegerField(default=0, help_text="Predict calls (not batches).")
    errors = models.PositiveIntegerField(default=0, help_text="Predict calls that were not 200.")
    rows = models.PositiveBigIntegerField(default=0, help_text="Rows of the predict calls.")
    batch_rows = models.PositiveBigIntegerField(default=0, help_text="Rows of batch chunks.")
    latency_histogram = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["deployment", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "hour"], name="prediction_hour_once")
        ]

    def __str__(self) -> str:
        return f"{self.requests} calls on {self.deployment_id} at {self.hour:%Y-%m-%d %H}:00"


class PredictionRollup(models.Model):
    """The rollup's watermark (one row): every request logged before `rolled_up_to` is counted
    in PredictionHour; the selectors read the log itself only from there on."""

    rolled_up_to = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rolled up to {self.rolled_up_to}"
