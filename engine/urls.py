from django.urls import include, path

from engine.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("", include("engine.views.project_urls")),
    path("", include("engine.views.run_urls")),
    path("", include("engine.views.deploy_urls")),
]
