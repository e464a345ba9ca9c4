"""The engine's domain, one module per entity group: `projects` (projects, datasets,
experiments), `runs` (runs and their events), `deployments` (pipelines, deployments and what
serving records) and `traffic` (the prediction log rolled up by the hour). Everything is
importable from `engine.models`, as Django expects."""

from engine.models.deployments import (
    BatchPrediction,
    Deployment,
    DeploymentRevision,
    Pipeline,
    PredictionRequest,
    PredictionSample,
)
from engine.models.projects import Dataset, Experiment, Project, Task
from engine.models.runs import TERMINAL_STATUSES, ErrorCategory, Run, RunEvent, RunStatus
from engine.models.traffic import PredictionHour, PredictionRollup

__all__ = [
    "TERMINAL_STATUSES",
    "BatchPrediction",
    "Dataset",
    "Deployment",
    "DeploymentRevision",
    "ErrorCategory",
    "Experiment",
    "Pipeline",
    "PredictionHour",
    "PredictionRequest",
    "PredictionRollup",
    "PredictionSample",
    "Project",
    "Run",
    "RunEvent",
    "RunStatus",
    "Task",
]
