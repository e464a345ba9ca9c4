"""Page forms, one module per entity. Forms only shape input; the services validate it
(duplicate names, columns, setup options, plans)."""

from engine.forms.experiments import ExperimentDetailsForm, ExperimentForm, experiment_initial
from engine.forms.projects import DatasetUploadForm, ProjectForm, ProjectRenameForm
from engine.forms.runs import RunPlanForm, plan_initial, plan_leftovers

__all__ = [
    "DatasetUploadForm",
    "ExperimentDetailsForm",
    "ExperimentForm",
    "experiment_initial",
    "plan_initial",
    "plan_leftovers",
    "ProjectForm",
    "ProjectRenameForm",
    "RunPlanForm",
]
