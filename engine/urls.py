"""Page URLs of the engine: dashboard, projects, datasets, experiments, runs, pipelines and
deployments."""

from django.urls import path

from engine.views import dashboard, datasets, deployments, experiments, pipelines, projects, runs

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
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
    # Runs.
    path("experiments/<int:experiment_id>/runs/", runs.experiment_runs, name="experiment_runs"),
    path("experiments/<int:experiment_id>/runs/new/", runs.run_create, name="run_create"),
    path("runs/<int:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", runs.run_rerun, name="run_rerun"),
    path("runs/<int:run_id>/plots/<slug:name>.png", runs.run_plot, name="run_plot"),
    # Pipelines and deployments.
    path("runs/<int:run_id>/promote/", pipelines.run_promote, name="run_promote"),
    path(
        "projects/<int:project_id>/pipelines/",
        pipelines.project_pipelines,
        name="project_pipelines",
    ),
    path("pipelines/<int:pipeline_id>/", pipelines.pipeline_detail, name="pipeline_detail"),
    path("pipelines/<int:pipeline_id>/deploy/", pipelines.pipeline_deploy, name="pipeline_deploy"),
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
