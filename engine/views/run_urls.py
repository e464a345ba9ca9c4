"""Page URLs for runs and what hangs off them."""

from django.urls import path

from engine.views import runs

urlpatterns = [
    path("experiments/<int:experiment_id>/runs/", runs.experiment_runs, name="experiment_runs"),
    path("experiments/<int:experiment_id>/runs/new/", runs.run_create, name="run_create"),
    path("runs/<int:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel_view, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", runs.run_rerun_view, name="run_rerun"),
    path("runs/<int:run_id>/plots/<slug:name>.png", runs.run_plot, name="run_plot"),
]
