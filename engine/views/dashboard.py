"""The workspace dashboard: the current workspace's projects and recent runs."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.access import get_scoped_or_404, permissions_in
from accounts.models import Workspace
from accounts.selectors import invitation_list_pending
from engine.forms import ProjectForm
from engine.models import Project
from engine.selectors.projects import project_list
from engine.selectors.runs import run_list_recent
from pycaret_studio.pagination import page_of


def _workspace_shown(request):
    """The workspace a breadcrumb asked for (`?workspace=ID`, one the caller can see), else the
    current one from the switcher."""
    asked = request.GET.get("workspace", "")
    if request.method == "GET" and asked:
        return get_scoped_or_404(request, Workspace.objects.all(), workspace_field="pk", pk=asked)
    return request.workspace or None


def dashboard_context(request, *, form: ProjectForm | None = None, workspace=None) -> dict:
    workspace = workspace or _workspace_shown(request)
    return {
        "workspace": workspace,
        "projects": page_of(
            request,
            project_list(request=request, workspace=workspace).order_by("-updated_at", "-id")
            if workspace
            else Project.objects.none(),
        ),
        "recent_runs": run_list_recent(workspace=workspace) if workspace else [],
        "project_form": form or ProjectForm(),
        "can_write": workspace is not None and "write" in permissions_in(request, workspace),
        "invitations": invitation_list_pending(user=request.user),
    }


@login_required
def dashboard(request):
    template = "engine/dashboard.html#projects" if request.htmx else "engine/dashboard.html"
    return render(request, template, dashboard_context(request))
