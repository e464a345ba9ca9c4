"""Top-level URLs: pages, the admin and the JSON API."""

from django.contrib import admin
from django.urls import include, path

from pycaret_studio.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("account/", include("accounts.urls")),
    path("copilots/", include("copilots.urls")),
    path("", include("engine.urls")),
]
