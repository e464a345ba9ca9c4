"""Experiment pages: the create form (on the dataset page, or alone) and the experiment page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import permissions_in, require
from engine.errors import StudioError
from engine.forms import ExperimentDetailsForm, ExperimentForm, experiment_initial
from engine.selectors.datasets import dataset_get
from engine.selectors.experiments import experiment_get
from engine.selectors.runs import run_table
from engine.services import experiments
from pycaret_studio.pages import show_error

FORM_PARTIAL = "engine/_experiment_form.html"
EDIT = "engine/experiment_edit.html"


@login_required
def experiment_create(request, dataset_id: int):
    dataset = dataset_get(request=request, dataset_id=dataset_id)
    project = dataset.project
    status = 200
    if request.method == "POST":
        form = ExperimentForm(request.POST, dataset=dataset)
        if form.is_valid():
            try:
                experiment = experiments.experiment_create(
                    project=project,
                    dataset=dataset,
                    name=form.cleaned_data["name"],
                    task=form.cleaned_data["task"],
                    target=form.chosen_target(),
                    setup=form.setup_options(),
                    description=form.cleaned_data["description"],
                    user=request.user,
                    request=request,
                )
            except StudioError as exc:
                show_error(request, exc, form=form)
            else:
                messages.success(request, f"Experiment “{experiment.name}” created.")
                url = reverse("experiment_detail", kwargs={"experiment_id": experiment.pk})
                if request.htmx:
                    return HttpResponseClientRedirect(url)
                return redirect(url)
        status = 422
    else:
        form = ExperimentForm(dataset=dataset, initial={"name": f"{dataset.name} experiment"})
    return _form_page(request, dataset, form, status=status)


def _form_page(request, dataset, form, *, status=200, cloned=None):
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "experiment_form": form,
        "can_write": "write" in permissions_in(request, dataset.project.workspace),
        "cloned": cloned,
    }
    template = FORM_PARTIAL if request.htmx else "engine/experiment_form.html"
    return render(request, template, context, status=status)


def _initial_of(experiment, **overrides) -> dict:
    values = {
        "name": experiment.name,
        "description": experiment.description,
        "task": experiment.task,
        "target": experiment.target,
        "setup": experiment.setup_options,
    }
    return experiment_initial(**{**values, **overrides})


@login_required
@require_GET
def experiment_clone(request, experiment_id: int):
    """The new-experiment form, filled in with this experiment's settings. Nothing is created
    until the person submits it (to experiment_create, which validates it again)."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    require(request, experiment.project.workspace, "write")
    name = f"{experiment.name} (copy)"[: ExperimentForm.base_fields["name"].max_length]
    form = ExperimentForm(dataset=experiment.dataset, initial=_initial_of(experiment, name=name))
    return _form_page(request, experiment.dataset, form, cloned=experiment)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request, experiment_id: int):
    """Edit the name and description; the task, target and setup too while it has no runs."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    require(request, experiment.project.workspace, "write")
    locked = experiments.setup_locked_reason(experiment)
    dataset = experiment.dataset
    status = 200
    if request.method == "POST":
        form = (
            ExperimentDetailsForm(request.POST)
            if locked
            else ExperimentForm(request.POST, dataset=dataset)
        )
        if form.is_valid():
            changes = None
            if not locked:
                changes = {
                    "task": form.cleaned_data["task"],
                    "target": form.chosen_target(),
                    "setup": form.setup_options(),
                }
            try:
                experiments.experiment_update(
                    experiment=experiment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    setup_changes=changes,
                    user=request.user,
                    request=request,
                )
            except StudioError as exc:
                show_error(request, exc, form=form)
            else:
                messages.success(request, f"Experiment “{experiment.name}” saved.")
                url = reverse("experiment_detail", kwargs={"experiment_id": experiment.pk})
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
        experiment.refresh_from_db()
    elif locked:
        form = ExperimentDetailsForm(
            initial={"name": experiment.name, "description": experiment.description}
        )
    else:
        form = ExperimentForm(dataset=dataset, initial=_initial_of(experiment))
    context = {
        "experiment": experiment,
        "dataset": dataset,
        "project": experiment.project,
        "edit_form": form,
        "locked": locked,
    }
    template = EDIT + "#edit-form" if request.htmx else EDIT
    return render(request, template, context, status=status)


@login_required
def experiment_detail(request, experiment_id: int):
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    show_archived = request.GET.get("archived") == "1"
    context = {
        "experiment": experiment,
        "dataset": experiment.dataset,
        "project": experiment.project,
        "table": run_table(experiment=experiment, params=request.GET, archived=show_archived),
        "show_archived": show_archived,
        "n_archived": experiment.runs.filter(archived_at__isnull=False).count(),
    }
    template = (
        "engine/experiment_detail.html#experiment-body"
        if request.htmx
        else "engine/experiment_detail.html"
    )
    return render(request, template, context)
