"""Run pages: the New run form and runs list on the experiment page, and the live run page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    push_url,
    trigger_client_event,
)

from accounts.access import permissions_in, require
from engine import downloads
from engine.errors import InvalidInput, StudioError
from engine.forms import RunPlanForm, plan_initial, plan_leftovers
from engine.selectors.comparisons import compare_ids
from engine.selectors.comparisons import run_compare as run_comparison
from engine.selectors.experiments import experiment_get
from engine.selectors.runs import (
    run_events_recent,
    run_get,
    run_list_visible,
    run_table,
)
from engine.services import runs
from pycaret_studio.pages import show_error
from pycaret_studio.pagination import page_of

DETAIL = "engine/runs/detail.html"
RUNS_BLOCK = "engine/runs/_experiment_runs.html"
RUNS_PAGE = "engine/runs/list.html"
PER_PAGE = 25


@login_required
@require_GET
def run_list_all(request):
    """The top bar's Runs: the caller's runs across their workspaces, newest first."""
    page = page_of(request, run_list_visible(request=request), per_page=PER_PAGE)
    template = f"{RUNS_PAGE}#runs-page" if request.htmx else RUNS_PAGE
    return render(request, template, {"page": page})


def _experiment_runs_context(request, experiment, form=None, submitted=None) -> dict:
    show_archived = request.GET.get("archived") == "1"
    return {
        "experiment": experiment,
        "table": run_table(experiment=experiment, params=request.GET, archived=show_archived),
        "show_archived": show_archived,
        "run_form": form or RunPlanForm(task=experiment.task),
        "submitted": submitted,
    }


@login_required
@require_GET
def experiment_runs(request, experiment_id: int):
    """The runs table alone, sorted, filtered and paged by the query; it refreshes on
    `runSubmitted` and while a run is active. A sort, filter or page click (anything but that
    refresh) pushes the experiment page's URL with the same query, which renders the same
    table; without htmx, this URL redirects there."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    page_url = reverse("experiment_detail", kwargs={"experiment_id": experiment.pk})
    query = urlencode([(name, value) for name, value in request.GET.items() if value])
    if query:
        page_url = f"{page_url}?{query}"
    if not request.htmx:
        return redirect(page_url)
    context = _experiment_runs_context(request, experiment)
    response = render(request, f"{RUNS_BLOCK}#runs-list", context)
    if request.htmx.trigger != "runs-list":
        response = push_url(response, page_url)
    return response


def _plan_error_messages(exc: StudioError) -> list[str]:
    """A bad plan's problems, each named by where it is in the plan."""
    if not isinstance(exc, InvalidInput) or not exc.extra.get("errors"):
        return [exc.message]
    messages_ = []
    for error in exc.extra["errors"]:
        where = ".".join(str(p) for p in error["loc"][3:])
        messages_.append(f"{where}: {error['msg']}" if where else error["msg"])
    return messages_


@login_required
@require_POST
def run_create(request, experiment_id: int):
    """Submit the New run form. HTMX: a fresh form plus `runSubmitted`; plain: the run page."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    form = RunPlanForm(request.POST, task=experiment.task)
    if form.is_valid():
        try:
            run = runs.run_submit(
                experiment=experiment, plan=form.to_plan(), user=request.user, request=request
            )
        except StudioError as exc:
            status = exc.status if exc.status != 400 else 422
            for message in _plan_error_messages(exc):
                form.add_error(None, message)
        else:
            if not request.htmx:
                return redirect("run_detail", run_id=run.pk)
            context = _experiment_runs_context(request, experiment, submitted=run)
            response = render(request, f"{RUNS_BLOCK}#run-form", context)
            return trigger_client_event(response, "runSubmitted", {"run_id": run.pk})
    else:
        status = 422
    context = _experiment_runs_context(request, experiment, form=form)
    if request.htmx:
        return render(request, f"{RUNS_BLOCK}#run-form", context, status=status)
    # Without JavaScript: the whole experiment page again, the form showing its errors.
    context.update(dataset=experiment.dataset, project=experiment.project)
    return render(request, "engine/experiment_detail.html", context, status=status)


def _detail_context(request, run) -> dict:
    experiment = run.experiment
    allowed = permissions_in(request, experiment.project.workspace)
    return {
        "run": run,
        "experiment": experiment,
        "project": experiment.project,
        "dataset": experiment.dataset,
        "events": run_events_recent(run=run),
        "can_train": "train" in allowed,
        "active": run.is_active,
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
def run_cancel(request, run_id: int):
    run = run_get(request=request, run_id=run_id)
    status = 200
    error = None
    try:
        run = runs.run_cancel(run=run, user=request.user, request=request)
    except StudioError as exc:
        status, error = show_error(request, exc), exc.message
        run.refresh_from_db()
    if not request.htmx:
        return redirect("run_detail", run_id=run.pk)
    context = _detail_context(request, run)
    context["status_error"] = error
    return render(request, f"{DETAIL}#status", context, status=status)


@login_required
@require_POST
def run_rerun(request, run_id: int):
    run = run_get(request=request, run_id=run_id)
    try:
        new_run = runs.run_rerun(run=run, user=request.user, request=request)
    except StudioError as exc:  # a quota: the run page says which
        status = show_error(request, exc)
        if not request.htmx:
            return redirect("run_detail", run_id=run.pk)
        context = _detail_context(request, run)
        context["status_error"] = exc.message
        return render(request, f"{DETAIL}#status", context, status=status)
    messages.success(request, f"{new_run.label} submitted with the same plan as {run.label}.")
    url = reverse("run_detail", kwargs={"run_id": new_run.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def run_edit(request, run_id: int):
    """The New run form filled in with this run's plan, to change before running it again.
    Nothing runs until the person submits it (to run_create, which validates it again)."""
    run = run_get(request=request, run_id=run_id)
    experiment = run.experiment
    require(request, experiment.project.workspace, "train")
    context = {
        "run": run,
        "experiment": experiment,
        "project": experiment.project,
        "dataset": experiment.dataset,
        "run_form": RunPlanForm(task=experiment.task, initial=plan_initial(run.plan or {})),
        "submitted": None,
        "leftovers": plan_leftovers(run.plan or {}),
    }
    if request.htmx:
        return render(request, f"{RUNS_BLOCK}#run-form", context)
    return render(request, "engine/runs/edit.html", context)


@login_required
@require_GET
def run_plot(request, run_id: int, name: str):
    """A run's plot PNG, after the same access check as the run (never a public media URL)."""
    run = run_get(request=request, run_id=run_id)
    require(request, run.experiment.project.workspace, "read")
    return downloads.run_plot(run, name, missing="No such plot.")


COMPARE = "engine/runs/compare.html"


@login_required
@require_GET
def run_compare(request):
    """2 to 5 runs side by side: `?ids=1,2,3` (or one `ids` per run, as the runs table's
    checkboxes send them). Too few or too many ids: the page says so, with a 422."""
    try:
        run_ids = compare_ids(request.GET.getlist("ids"))
    except StudioError as exc:
        template = f"{COMPARE}#compare-body" if request.htmx else COMPARE
        return render(request, template, {"error": exc.message}, status=exc.status)
    comparison = run_comparison(request=request, run_ids=run_ids)
    template = f"{COMPARE}#compare-body" if request.htmx else COMPARE
    return render(request, template, {"comparison": comparison})
