"""Project pages: create (from the dashboard), view, rename and delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.access import get_scoped_or_404, permissions_in, require
from accounts.models import Workspace
from engine import selectors
from engine.forms import DatasetUploadForm, ProjectForm, ProjectRenameForm
from engine.services.projects import project_create as create_project
from engine.services.projects import project_delete as delete_project
from engine.services.projects import project_update
from engine.views.dashboard import dashboard_context

UNPROCESSABLE = 422


def add_service_errors(form, exc: ValidationError) -> None:
    """Attach a service's field-keyed errors to the form (unknown fields go on top)."""
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def project_context(request, project, **extra) -> dict:
    context = {
        "project": project,
        "datasets": selectors.dataset_list(project=project),
        "experiments": selectors.experiment_list(project=project),
        "can_write": "write" in permissions_in(request, project.workspace),
        "upload_form": DatasetUploadForm(),
        "rename_form": ProjectRenameForm(initial={"name": project.name}),
    }
    context.update(extra)
    return context


@login_required
@require_POST
def project_create(request):
    workspace_id = request.POST.get("workspace_id")
    if workspace_id:
        workspace = get_scoped_or_404(
            request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
        )
    else:
        workspace = request.workspace or None
        if workspace is None:
            return redirect("dashboard")
    require(request, workspace, "write")
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            project = create_project(
                workspace=workspace,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if request.htmx:
                response = render(
                    request, "engine/dashboard.html#projects", dashboard_context(request)
                )
                return trigger_client_event(response, "projectCreated", {"id": project.pk})
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project_detail", project_id=project.pk)
    template = "engine/dashboard.html#projects" if request.htmx else "engine/dashboard.html"
    return render(request, template, dashboard_context(request, form=form), status=UNPROCESSABLE)


@login_required
def project_detail(request, project_id: int):
    project = selectors.project_get(request=request, project_id=project_id)
    template = (
        "engine/project_detail.html#project-body" if request.htmx else "engine/project_detail.html"
    )
    return render(request, template, project_context(request, project))


@login_required
@require_POST
def project_rename(request, project_id: int):
    project = selectors.project_get(request=request, project_id=project_id)
    require(request, project.workspace, "write")
    form = ProjectRenameForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            project_update(project=project, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            project.refresh_from_db()
    if form.errors:
        status = UNPROCESSABLE
    elif not request.htmx:
        messages.success(request, f"Renamed to “{project.name}”.")
        return redirect("project_detail", project_id=project.pk)
    else:
        form = ProjectRenameForm(initial={"name": project.name})
    template = (
        "engine/project_detail.html#project-head" if request.htmx else "engine/project_detail.html"
    )
    response = render(
        request, template, project_context(request, project, rename_form=form), status=status
    )
    if status == 200:
        trigger_client_event(response, "projectRenamed", {"id": project.pk})
    return response


@login_required
@require_POST
def project_delete(request, project_id: int):
    project = selectors.project_get(request=request, project_id=project_id)
    require(request, project.workspace, "write")
    name = project.name
    delete_project(project=project)
    messages.success(request, f"Project “{name}” deleted.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("dashboard"))
    return redirect("dashboard")
