"""Page URLs for the copilots, under /copilots/."""

from django.urls import path

from copilots import views

app_name = "copilots"

urlpatterns = [
    path("datasets/<int:dataset_id>/analyze/", views.dataset_analyze, name="dataset_analyze"),
    path("datasets/<int:dataset_id>/design/", views.dataset_design, name="dataset_design"),
    path("runs/<int:run_id>/explain/", views.run_explain, name="run_explain"),
    path("runs/<int:run_id>/diagnose/", views.run_diagnose, name="run_diagnose"),
    path("pipelines/<int:pipeline_id>/review/", views.pipeline_review, name="pipeline_review"),
    path(
        "deployments/<int:deployment_id>/drift/",
        views.deployment_drift,
        name="deployment_drift",
    ),
    path(
        "consultations/<int:consultation_id>/apply/",
        views.design_apply,
        name="design_apply",
    ),
    path(
        "consultations/<int:consultation_id>/apply-plan/",
        views.plan_apply,
        name="plan_apply",
    ),
]
