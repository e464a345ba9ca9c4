"""Page forms, one module per entity. Forms only shape input; the services validate it
(duplicate names, columns, setup options, plans)."""

from engine.forms.experiments import ExperimentForm
from engine.forms.projects import DatasetUploadForm, ProjectForm, ProjectRenameForm
from engine.forms.runs import RunPlanForm

__all__ = ["DatasetUploadForm", "ExperimentForm", "ProjectForm", "ProjectRenameForm", "RunPlanForm"]
