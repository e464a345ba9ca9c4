"""The engine's domain, one module per entity group: `projects` (projects, datasets,
experiments), `runs` (runs and their events) and `deployments` (pipelines, deployments and what
serving records). Everything is importable from `engine.models`, as Django expects."""

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

__all__ = [
    "TERMINAL_STATUSES",
    "BatchPrediction",
    "Dataset",
    "Deployment",
    "DeploymentRevision",
    "ErrorCategory",
    "Experiment",
    "Pipeline",
    "PredictionRequest",
    "PredictionSample",
    "Project",
    "Run",
    "RunEvent",
    "RunStatus",
    "Task",
]
