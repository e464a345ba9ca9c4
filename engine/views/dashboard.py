"""The workspace dashboard: the current workspace's projects and recent runs."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    return render(request, "engine/dashboard.html", {"workspace": request.workspace})
