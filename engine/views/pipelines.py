"""Pipeline pages: promote a run, a project's pipelines and deployments, the pipeline page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import permissions_in, require
from engine import downloads
from engine.errors import StudioError
from engine.selectors.deployments import deployment_list, deployment_list_for_pipeline
from engine.selectors.pipelines import pipeline_get, pipeline_list, pipeline_list_versions
from engine.selectors.projects import project_get
from engine.selectors.runs import run_get
from engine.services import deployments, pipelines
from pycaret_studio.pages import show_error
from pycaret_studio.pagination import page_of, template_for

DETAIL = "engine/pipelines/detail.html"
PROMOTE_FORM = "engine/pipelines/_promote_form.html"


@login_required
@require_POST
def run_promote(request, run_id: int):
    """The run page's Promote form. Success: the new pipeline's page."""
    run = run_get(request=request, run_id=run_id)
    name = request.POST.get("name", "")
    try:
        pipeline = pipelines.pipeline_promote(
            run=run, user=request.user, name=name, request=request
        )
    except StudioError as exc:
        status = show_error(request, exc)
        if not request.htmx:
            return redirect("run_detail", run_id=run.pk)
        context = {"run": run, "promote_error": exc.message, "promote_name": name}
        return render(request, PROMOTE_FORM, context, status=status)
    url = reverse("pipeline_detail", args=[pipeline.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    messages.success(request, f"Promoted {run.label} to {pipeline}.")
    return redirect(url)


@login_required
@require_GET
def project_pipelines(request, project_id: int):
    """A project's pipelines (every version) and its deployments."""
    project = project_get(request=request, project_id=project_id)
    context = {
        "project": project,
        "pipelines": page_of(
            request,
            pipeline_list(project=project).order_by("name", "-version", "-id"),
            param="pipelines_page",
        ),
        "deployments": page_of(
            request,
            deployment_list(project=project).order_by("-updated_at", "-id"),
            param="deployments_page",
        ),
    }
    template = template_for(
        request,
        "engine/pipelines/list.html",
        fragments=("project-pipelines", "project-deployments"),
        default="pipelines-body",
    )
    return render(request, template, context)


def _latest_verdict(pipeline) -> str:
    from copilots.selectors import latest_review

    review = latest_review(pipeline)
    return (review.advice or {}).get("verdict", "") if review is not None else ""


def _detail_context(request, pipeline, **extra) -> dict:
    run = pipeline.origin_run
    allowed = permissions_in(request, pipeline.project.workspace)
    context = {
        "pipeline": pipeline,
        "project": pipeline.project,
        "run": run,
        "experiment": run.experiment,
        "versions": page_of(
            request,
            pipeline_list_versions(pipeline=pipeline).order_by("-version", "-id"),
            param="versions_page",
        ),
        "deployments": deployment_list_for_pipeline(pipeline=pipeline),
        "can_deploy": "deploy" in allowed,
        "deploy_slug": "",
        "deploy_error": None,
        "deploy_confirm": None,
        "latest_verdict": _latest_verdict(pipeline),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def pipeline_detail(request, pipeline_id: int):
    pipeline = pipeline_get(request=request, pipeline_id=pipeline_id)
    template = template_for(
        request, DETAIL, fragments=("pipeline-versions-list",), default="pipeline-body"
    )
    return render(request, template, _detail_context(request, pipeline))


@login_required
@require_GET
def pipeline_download(request, pipeline_id: int):
    """The pipeline's .pkl, after the same access check as its page (never a media URL)."""
    pipeline = pipeline_get(request=request, pipeline_id=pipeline_id)
    require(request, pipeline.project.workspace, "read")
    return downloads.pipeline_artifact(pipeline)


@login_required
@require_POST
def pipeline_deploy(request, pipeline_id: int):
    """The deploy sidebar's form. Success: the deployment's page. A pipeline its latest review
    did not approve comes back with a confirmation step that names the risks."""
    pipeline = pipeline_get(request=request, pipeline_id=pipeline_id)
    slug = request.POST.get("slug", "").strip()
    acknowledged = request.POST.get("acknowledge_risks") in ("1", "true", "on")
    try:
        deployment, created = deployments.deployment_deploy(
            pipeline=pipeline,
            slug=slug or None,
            user=request.user,
            request=request,
            acknowledge_risks=acknowledged,
        )
    except StudioError as exc:
        confirm = exc.extra if exc.code == "confirmation_required" else None
        context = _detail_context(
            request,
            pipeline,
            deploy_slug=slug,
            deploy_error=None if confirm else exc.message,
            deploy_confirm={**confirm, "message": exc.message} if confirm else None,
        )
        template = f"{DETAIL}#deploy-form" if request.htmx else DETAIL
        return render(request, template, context, status=exc.status)
    verb = "Deployed" if created else "Now serving"
    messages.success(request, f"{verb} {pipeline} at '{deployment.slug}'.")
    url = reverse("deployment_detail", args=[deployment.slug])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
