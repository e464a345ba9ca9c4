"""Deployment pages: status and history, predict form, batch scoring, request stats, drift."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from accounts.access import permissions_in, require
from engine import downloads, uploads
from engine.errors import InvalidInput, StudioError
from engine.models import RunStatus
from engine.selectors.deployments import (
    batch_get,
    batch_list,
    deployment_drift_report,
    deployment_example_row,
    deployment_forecast_requests,
    deployment_get,
    deployment_list_visible,
    deployment_revisions,
    deployment_rollback_target,
    deployment_stats,
    deployment_traffic,
)
from engine.selectors.projects import project_get
from engine.services import batches, deployments, predictions
from pycaret_studio.pages import show_error
from pycaret_studio.pagination import page_of, template_for

DETAIL = "engine/deployments/detail.html"
RESULT = "engine/deployments/_predict_result.html"
ACTIVE_BATCH = (RunStatus.QUEUED, RunStatus.RUNNING)
SNIPPET_LANGUAGES = [
    ("curl", "curl"),
    ("python", "Python (requests)"),
    ("javascript", "JavaScript (fetch)"),
]


LIST = "engine/deployments/list.html"
PER_PAGE = 25
HISTORY_PER_PAGE = 10  # the deployment page's history: the newest ten deploys and rollbacks


@login_required
@require_GET
def deployment_list(request):
    """The top bar's Deployments: every deployment in the caller's workspaces; `?project=ID`
    narrows it to one project (the deployment page's "Deployments" crumb)."""
    project_id = request.GET.get("project", "")
    project = project_get(request=request, project_id=project_id) if project_id else None
    found = deployment_list_visible(request=request, project=project)
    page = page_of(request, found, per_page=PER_PAGE)
    template = f"{LIST}#deployments-page" if request.htmx else LIST
    page_query = f"project={project.pk}&" if project else ""
    return render(request, template, {"page": page, "project": project, "page_query": page_query})


def predict_fields(deployment, values: dict | None = None) -> list[dict]:
    """One typed input per training feature, prefilled with a typical training value."""
    pipeline = deployment.pipeline
    dataset = pipeline.origin_run.experiment.dataset
    fields = []
    for index, feature in enumerate(pipeline.feature_schema):
        kind = feature.get("kind", "numeric")
        profile = dataset.column(feature["name"]) or {}
        default = ""
        if kind == "numeric" and profile.get("mean") is not None:
            default = _typical_number(profile, feature)
        elif profile.get("top"):
            default = str(profile["top"][0].get("value", ""))
        fields.append(
            {
                "index": index,
                "input_name": f"feature_{index}",
                "name": feature["name"],
                "kind": kind,
                "dtype": feature.get("dtype", ""),
                "input_type": "number" if kind == "numeric" else "text",
                "step": "1" if _is_integer(feature) else "any",
                "value": (values or {}).get(f"feature_{index}", default),
                "choices": [str(t.get("value")) for t in profile.get("top", [])[:20]],
            }
        )
    return fields


def _typical_number(profile: dict, feature: dict) -> str:
    """The prefill of a numeric input: the mean, rounded to a whole number for an integer
    column (a mean year of 2008.03 prefills 2008)."""
    mean = profile["mean"]
    if _is_integer(feature):
        return str(round(mean))
    return f"{mean:.6g}"


def _is_integer(feature: dict) -> bool:
    return str(feature.get("dtype", "")).lower().startswith(("int", "uint"))


def _context(request, deployment, **extra) -> dict:
    allowed = permissions_in(request, deployment.project.workspace)
    pipeline = deployment.pipeline
    forecasting = pipeline.task == "time_series"
    context = {
        "forecasting": forecasting,
        "series": pipeline.origin_run.summary if forecasting else {},
        "forecast_requests": (
            deployment_forecast_requests(deployment=deployment) if forecasting else []
        ),
        "deployment": deployment,
        "pipeline": pipeline,
        "project": deployment.project,
        "history": page_of(
            request,
            deployment_revisions(deployment=deployment),
            param="history_page",
            per_page=HISTORY_PER_PAGE,
        ),
        "rollback_to": deployment_rollback_target(deployment),
        "stats": deployment_stats(deployment=deployment),
        "traffic": deployment_traffic(deployment=deployment),
        "example_row": deployment_example_row(deployment=deployment),
        "pipeline_filename": downloads.pipeline_filename(pipeline),
        "snippet_languages": SNIPPET_LANGUAGES,
        "predict_url": request.build_absolute_uri(
            reverse("api:deployment_predict", kwargs={"slug": deployment.slug})
        ),
        "batches": batch_list(deployment=deployment),
        "fields": predict_fields(deployment),
        "can_deploy": "deploy" in allowed,
        "can_predict": "predict" in allowed,
        "active_batches": False,
    }
    context["active_batches"] = any(b.status in ACTIVE_BATCH for b in context["batches"])
    context.update(extra)
    return context


@login_required
@require_GET
def deployment_detail(request, slug: str):
    deployment = deployment_get(request=request, slug=slug)
    context = _context(request, deployment, drift=deployment_drift_report(deployment=deployment))
    template = template_for(
        request, DETAIL, fragments=("deployment-history-list",), default="deployment-body"
    )
    return render(request, template, context)


@login_required
@require_POST
def deployment_predict(request, slug: str):
    """The predict form: one row from the typed inputs; the result fragment comes back."""
    deployment = deployment_get(request=request, slug=slug)
    fields = predict_fields(deployment, values=request.POST)
    row = {f["name"]: (request.POST.get(f["input_name"], "").strip() or None) for f in fields}
    forecasting = deployment.pipeline.task == "time_series"
    context = {"deployment": deployment, "row": row, "forecasting": forecasting}
    if forecasting:
        context["series"] = deployment.pipeline.origin_run.summary
    ask = {"fh": _whole_number(request.POST.get("fh"))} if forecasting else {"rows": [row]}
    try:
        context["result"] = predictions.deployment_predict(
            deployment=deployment, request=request, user=request.user, **ask
        )
        status = 200
    except StudioError as exc:
        context["error"] = exc.message
        status = exc.status
    if not request.htmx:
        full = _context(request, deployment, drift=deployment_drift_report(deployment=deployment))
        full.update(context, fields=fields)
        return render(request, DETAIL, full, status=status)
    return render(request, RESULT, context, status=status)


def _whole_number(text: str | None):
    """The fh field's value as an int, or the text itself for the service to refuse."""
    text = (text or "").strip()
    try:
        return int(text)
    except ValueError:
        return text or None


def _change(request, slug: str, service, done: str):
    deployment = deployment_get(request=request, slug=slug)
    status = 200
    error = None
    try:
        deployment = service(deployment=deployment, user=request.user, request=request)
    except StudioError as exc:
        status, error = show_error(request, exc), exc.message
    if not request.htmx:
        if not error:
            messages.success(request, done.format(d=deployment))
        return redirect("deployment_detail", slug=deployment.slug)
    deployment.refresh_from_db()
    context = _context(request, deployment, serving_error=error)
    response = render(request, f"{DETAIL}#serving", context, status=status)
    if not error:
        trigger_client_event(response, "deploymentChanged", {"slug": deployment.slug})
    return response


@login_required
@require_POST
def deployment_rollback(request, slug: str):
    return _change(
        request,
        slug,
        deployments.deployment_rollback,
        "Rolled back: '{d.slug}' now serves {d.pipeline}.",
    )


@login_required
@require_POST
def deployment_deactivate(request, slug: str):
    return _change(
        request,
        slug,
        deployments.deployment_deactivate,
        "'{d.slug}' is inactive: predict answers 409.",
    )


@login_required
@require_POST
def deployment_activate(request, slug: str):
    return _change(
        request, slug, deployments.deployment_activate, "'{d.slug}' serves predictions again."
    )


# CSRF is checked inside, after the size check, as for a dataset upload (engine/uploads.py).
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def deployment_batches(request, slug: str):
    """GET: the batch list (polled while a batch is queued or running). POST: upload a CSV."""
    deployment = deployment_get(request=request, slug=slug)
    status = 200
    batch_error = None
    if request.method == "POST":
        too_large = uploads.upload_rejected_early(request)
        csrf_failure = uploads.csrf_failure(request) if too_large is None else None
        if csrf_failure is not None:
            return csrf_failure
        try:
            if too_large is not None:
                raise too_large
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput("Choose a CSV file to score.")
            submitted = batches.batch_submit(
                deployment=deployment, upload=upload, user=request.user, request=request
            )
        except StudioError as exc:
            status, batch_error = show_error(request, exc), exc.message
        else:
            if not request.htmx:
                messages.success(request, f"Scoring {submitted.input_filename} in the background.")
        if not request.htmx:
            return redirect("deployment_detail", slug=deployment.slug)
    context = _context(request, deployment, batch_error=batch_error)
    if not request.htmx:
        return redirect("deployment_detail", slug=deployment.slug)
    response = render(request, f"{DETAIL}#batches", context, status=status)
    if request.method == "GET" and not context["active_batches"]:
        return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])
    return response


@login_required
@require_GET
def batch_download(request, batch_id: int):
    """A batch's scored CSV, after the same access check as its deployment."""
    batch = batch_get(request=request, batch_id=batch_id)
    require(request, batch.deployment.project.workspace, "read")
    return downloads.batch_output(batch)


@login_required
@require_GET
def deployment_drift(request, slug: str):
    deployment = deployment_get(request=request, slug=slug)
    context = {"deployment": deployment, "drift": deployment_drift_report(deployment=deployment)}
    if deployment.pipeline.task == "time_series":
        context["forecast_requests"] = deployment_forecast_requests(deployment=deployment)
    if not request.htmx:
        return redirect("deployment_detail", slug=deployment.slug)
    return render(request, f"{DETAIL}#drift", context)
