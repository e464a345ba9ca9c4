"""Page URLs for pipelines and deployments."""

from django.urls import path

from engine.views import deployments, pipelines

urlpatterns = [
    path("runs/<int:run_id>/promote/", pipelines.run_promote, name="run_promote"),
    path(
        "projects/<int:project_id>/pipelines/",
        pipelines.project_pipelines,
        name="project_pipelines",
    ),
    path("pipelines/<int:pipeline_id>/", pipelines.pipeline_detail, name="pipeline_detail"),
    path("pipelines/<int:pipeline_id>/deploy/", pipelines.pipeline_deploy, name="pipeline_deploy"),
    path("deployments/<slug:slug>/", deployments.deployment_detail, name="deployment_detail"),
    path(
        "deployments/<slug:slug>/predict/",
        deployments.deployment_predict_view,
        name="deployment_predict",
    ),
    path(
        "deployments/<slug:slug>/rollback/",
        deployments.deployment_rollback_view,
        name="deployment_rollback",
    ),
    path(
        "deployments/<slug:slug>/deactivate/",
        deployments.deployment_deactivate_view,
        name="deployment_deactivate",
    ),
    path(
        "deployments/<slug:slug>/activate/",
        deployments.deployment_activate_view,
        name="deployment_activate",
    ),
    path(
        "deployments/<slug:slug>/batches/",
        deployments.deployment_batches,
        name="deployment_batches",
    ),
    path(
        "deployments/<slug:slug>/drift/", deployments.deployment_drift_view, name="deployment_drift"
    ),
    path(
        "batch-predictions/<int:batch_id>/download/",
        deployments.batch_download,
        name="batch_download",
    ),
]
