"""Page URLs of the engine: dashboard, projects, datasets, experiments, runs, pipelines and
deployments."""

from django.urls import path

from engine.views import (
    archive,
    dashboard,
    datasets,
    deployments,
    experiments,
    pipelines,
    projects,
    runs,
    search,
)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("search/", search.search, name="search"),
    # Projects, and what hangs off them: datasets and experiments.
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
    path(
        "experiments/<int:experiment_id>/clone/",
        experiments.experiment_clone,
        name="experiment_clone",
    ),
    path(
        "experiments/<int:experiment_id>/edit/", experiments.experiment_edit, name="experiment_edit"
    ),
    # Runs.
    path("experiments/<int:experiment_id>/runs/", runs.experiment_runs, name="experiment_runs"),
    path("experiments/<int:experiment_id>/runs/new/", runs.run_create, name="run_create"),
    path("runs/", runs.run_list_all, name="run_list"),
    path("runs/compare/", runs.run_compare, name="run_compare"),
    path("runs/<int:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", runs.run_rerun, name="run_rerun"),
    path("runs/<int:run_id>/edit/", runs.run_edit, name="run_edit"),
    path("runs/<int:run_id>/plots/<slug:name>.png", runs.run_plot, name="run_plot"),
    # Archive, restore and delete.
    path("datasets/<int:dataset_id>/archive/", archive.dataset_archive, name="dataset_archive"),
    path("datasets/<int:dataset_id>/restore/", archive.dataset_restore, name="dataset_restore"),
    path("datasets/<int:dataset_id>/delete/", archive.dataset_delete, name="dataset_delete"),
    path(
        "experiments/<int:experiment_id>/archive/",
        archive.experiment_archive,
        name="experiment_archive",
    ),
    path(
        "experiments/<int:experiment_id>/restore/",
        archive.experiment_restore,
        name="experiment_restore",
    ),
    path(
        "experiments/<int:experiment_id>/delete/",
        archive.experiment_delete,
        name="experiment_delete",
    ),
    path("runs/<int:run_id>/archive/", archive.run_archive, name="run_archive"),
    path("runs/<int:run_id>/restore/", archive.run_restore, name="run_restore"),
    path("runs/<int:run_id>/delete/", archive.run_delete, name="run_delete"),
    # Pipelines and deployments.
    path("runs/<int:run_id>/promote/", pipelines.run_promote, name="run_promote"),
    path(
        "projects/<int:project_id>/pipelines/",
        pipelines.project_pipelines,
        name="project_pipelines",
    ),
    path("pipelines/<int:pipeline_id>/", pipelines.pipeline_detail, name="pipeline_detail"),
    path("pipelines/<int:pipeline_id>/deploy/", pipelines.pipeline_deploy, name="pipeline_deploy"),
    path("deployments/", deployments.deployment_list, name="deployment_list"),
    path(
        "pipelines/<int:pipeline_id>/download/",
        pipelines.pipeline_download,
        name="pipeline_download",
    ),
    path("deployments/<slug:slug>/", deployments.deployment_detail, name="deployment_detail"),
    path(
        "deployments/<slug:slug>/predict/",
        deployments.deployment_predict,
        name="deployment_predict",
    ),
    path(
        "deployments/<slug:slug>/rollback/",
        deployments.deployment_rollback,
        name="deployment_rollback",
    ),
    path(
        "deployments/<slug:slug>/deactivate/",
        deployments.deployment_deactivate,
        name="deployment_deactivate",
    ),
    path(
        "deployments/<slug:slug>/activate/",
        deployments.deployment_activate,
        name="deployment_activate",
    ),
    path(
        "deployments/<slug:slug>/batches/",
        deployments.deployment_batches,
        name="deployment_batches",
    ),
    path("deployments/<slug:slug>/drift/", deployments.deployment_drift, name="deployment_drift"),
    path(
        "batch-predictions/<int:batch_id>/download/",
        deployments.batch_download,
        name="batch_download",
    ),
]
