"""Project pages: create (from the dashboard), view, rename and delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import get_scoped_or_404, permissions_in
from accounts.models import Workspace
from engine.errors import StudioError
from engine.forms import DatasetUploadForm, ProjectForm, ProjectRenameForm
from engine.selectors.datasets import dataset_list
from engine.selectors.deployments import deployment_list
from engine.selectors.experiments import experiment_list
from engine.selectors.pipelines import pipeline_list
from engine.selectors.projects import project_get
from engine.services import projects
from engine.views.dashboard import dashboard_context
from pycaret_studio.pages import show_error
from pycaret_studio.pagination import page_of, template_for

UNPROCESSABLE = 422
PIPELINES_SHOWN = 10  # the newest; the Pipelines and Deployments pages list them all
# The project page is an overview: ten datasets and ten experiments to a page, like its
# pipelines and deployments, so a busy project's page costs what a small one's does.
PROJECT_LIST_PER_PAGE = 10


def project_context(request, project, **extra) -> dict:
    show_archived = request.GET.get("archived") == "1"
    context = {
        "project": project,
        "datasets": page_of(
            request,
            dataset_list(project=project, archived=show_archived).order_by("-created_at", "-id"),
            param="datasets_page",
            per_page=PROJECT_LIST_PER_PAGE,
        ),
        "experiments": page_of(
            request,
            experiment_list(project=project, archived=show_archived).order_by("-created_at", "-id"),
            param="experiments_page",
            per_page=PROJECT_LIST_PER_PAGE,
        ),
        "show_archived": show_archived,
        "n_archived": project.datasets.filter(archived_at__isnull=False).count()
        + project.experiments.filter(archived_at__isnull=False).count(),
        "pipelines": pipeline_list(project=project).order_by("-created_at", "-id")[
            :PIPELINES_SHOWN
        ],
        "deployments": deployment_list(project=project)[:PIPELINES_SHOWN],
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
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            project = projects.project_create(
                workspace=workspace,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                user=request.user,
                request=request,
            )
        except StudioError as exc:
            show_error(request, exc, form=form)
        else:
            if request.htmx:
                context = dashboard_context(request, workspace=workspace)
                return render(request, "engine/dashboard.html#projects", context)
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project_detail", project_id=project.pk)
    template = "engine/dashboard.html#projects" if request.htmx else "engine/dashboard.html"
    context = dashboard_context(request, form=form, workspace=workspace)
    return render(request, template, context, status=UNPROCESSABLE)


@login_required
def project_detail(request, project_id: int):
    project = project_get(request=request, project_id=project_id)
    template = template_for(
        request,
        "engine/project_detail.html",
        fragments=("project-datasets", "project-experiments"),
        default="project-body",
    )
    return render(request, template, project_context(request, project))


@login_required
@require_POST
def project_rename(request, project_id: int):
    project = project_get(request=request, project_id=project_id)
    form = ProjectRenameForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            projects.project_update(
                project=project, name=form.cleaned_data["name"], user=request.user, request=request
            )
        except StudioError as exc:
            show_error(request, exc, form=form)
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
    return render(
        request, template, project_context(request, project, rename_form=form), status=status
    )


@login_required
@require_POST
def project_delete(request, project_id: int):
    project = project_get(request=request, project_id=project_id)
    name = project.name
    projects.project_delete(project=project, user=request.user, request=request)
    messages.success(request, f"Project “{name}” deleted.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("dashboard"))
    return redirect("dashboard")
