"""Page URLs for projects and what hangs off them: datasets and experiments."""

from django.urls import path

from engine.views import datasets, experiments, projects

urlpatterns = [
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/<int:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<int:project_id>/rename/", projects.project_rename, name="project_rename"),
    path("projects/<int:project_id>/delete/", projects.project_delete, name="project_delete"),
    path(
        "projects/<int:project_id>/datasets/upload/",
        datasets.dataset_upload,
        name="dataset_upload",
    ),
    path("datasets/<int:dataset_id>/", datasets.dataset_detail, name="dataset_detail"),
    path("datasets/<int:dataset_id>/download/", datasets.dataset_download, name="dataset_download"),
    path(
        "datasets/<int:dataset_id>/experiments/new/",
        experiments.experiment_create,
        name="experiment_create",
    ),
    path(
        "experiments/<int:experiment_id>/", experiments.experiment_detail, name="experiment_detail"
    ),
]
