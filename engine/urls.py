from django.urls import path

from engine.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
]
