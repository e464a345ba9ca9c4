"""Run pages: the New run form and runs list on the experiment page, and the live run page."""

from __future__ import annotations

import pydantic
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    trigger_client_event,
)

from accounts.access import permissions_in, require
from engine.forms_runs import RunPlanForm
from engine.run_selectors import (
    run_get,
    run_is_active,
    run_list,
    run_plot_path,
    run_recent_events,
)
from engine.selectors import experiment_get
from engine.services.runs import RunConflict, run_cancel, run_rerun, run_submit

DETAIL = "engine/runs/detail.html"
# The run page's Promote control: the pipelines' form (issue 5) where it exists, else a
# disabled placeholder button.
RUNS_BLOCK = "engine/runs/_experiment_runs.html"


def _experiment_runs_context(request, experiment, form=None, submitted=None) -> dict:
    return {
        "experiment": experiment,
        "runs": run_list(experiment=experiment),
        "run_form": form or RunPlanForm(task=experiment.task),
        "submitted": submitted,
    }


@login_required
@require_GET
def experiment_runs(request, experiment_id: int):
    """The runs list alone; it refreshes on `runSubmitted` and while a run is active."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    return render(request, f"{RUNS_BLOCK}#runs-list", _experiment_runs_context(request, experiment))


@login_required
@require_POST
def run_create(request, experiment_id: int):
    """Submit the New run form. HTMX: a fresh form plus `runSubmitted`; plain: the run page."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    require(request, experiment.project.workspace, "train")
    form = RunPlanForm(request.POST, task=experiment.task)
    if form.is_valid():
        try:
            run = run_submit(
                experiment=experiment, plan=form.to_plan(), user=request.user, request=request
            )
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error.get("loc", ())[1:])
                form.add_error(None, f"{where}: {error['msg']}" if where else error["msg"])
        else:
            if not request.htmx:
                return redirect("run_detail", run_id=run.pk)
            context = _experiment_runs_context(request, experiment, submitted=run)
            response = render(request, f"{RUNS_BLOCK}#run-form", context)
            return trigger_client_event(response, "runSubmitted", {"run_id": run.pk})
    context = _experiment_runs_context(request, experiment, form=form)
    if request.htmx:
        return render(request, f"{RUNS_BLOCK}#run-form", context, status=422)
    # Without JavaScript: the whole experiment page again, the form showing its errors.
    context.update(dataset=experiment.dataset, project=experiment.project)
    return render(request, "engine/experiment_detail.html", context, status=422)


def _detail_context(request, run) -> dict:
    experiment = run.experiment
    allowed = permissions_in(request, experiment.project.workspace)
    return {
        "run": run,
        "experiment": experiment,
        "project": experiment.project,
        "dataset": experiment.dataset,
        "events": run_recent_events(run=run),
        "can_train": "train" in allowed,
        "active": run_is_active(run),
    }


@login_required
@require_GET
def run_detail(request, run_id: int):
    """The run page. HTMX polls get the status fragment; a terminal run answers 286 (stop
    polling) with the final fragment and the results swapped in out of band."""
    run = run_get(request=request, run_id=run_id)
    context = _detail_context(request, run)
    if not request.htmx:
        return render(request, DETAIL, context)
    if context["active"]:
        return render(request, f"{DETAIL}#status", context)
    context["oob"] = True
    response = render(request, "engine/runs/_final.html", context)
    return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])


@login_required
@require_POST
def run_cancel_view(request, run_id: int):
    run = run_get(request=request, run_id=run_id)
    status = 200
    try:
        run = run_cancel(run=run, user=request.user, request=request)
    except RunConflict as exc:
        status = 409
        if not request.htmx:
            messages.error(request, str(exc))
        run.refresh_from_db()
    if not request.htmx:
        return redirect("run_detail", run_id=run.pk)
    context = _detail_context(request, run)
    if status == 409:
        context["status_error"] = f"Run {run.pk} has already {run.status}; it cannot be cancelled."
    return render(request, f"{DETAIL}#status", context, status=status)


@login_required
@require_POST
def run_rerun_view(request, run_id: int):
    run = run_get(request=request, run_id=run_id)
    new_run = run_rerun(run=run, user=request.user, request=request)
    messages.success(request, f"Run {new_run.pk} submitted with the same plan as run {run.pk}.")
    url = reverse("run_detail", kwargs={"run_id": new_run.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def run_plot(request, run_id: int, name: str):
    """A run's plot PNG, after the same access check as the run (never a public media URL)."""
    run = run_get(request=request, run_id=run_id)
    if "read" not in permissions_in(request, run.experiment.project.workspace):
        raise PermissionDenied("This needs the 'read' permission.")
    path = run_plot_path(run=run, name=name)
    if path is None:
        raise Http404("No such plot.")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="run-{run.pk}-{path.name}"'
    return response
