"""Page forms, one module per entity. Forms only shape input; the services validate it
(duplicate names, columns, setup options, plans)."""

from engine.forms.experiments import ExperimentDetailsForm, ExperimentForm, experiment_initial
from engine.forms.projects import DatasetUploadForm, ProjectForm, ProjectRenameForm
from engine.forms.runs import RunPlanForm

__all__ = [
    "DatasetUploadForm",
    "ExperimentDetailsForm",
    "ExperimentForm",
    "experiment_initial",
    "ProjectForm",
    "ProjectRenameForm",
    "RunPlanForm",
]
