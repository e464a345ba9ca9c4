"""Experiment pages: the create form (on the dataset page, or alone) and the experiment page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import permissions_in
from engine.errors import StudioError
from engine.forms import ExperimentForm
from engine.selectors.datasets import dataset_get
from engine.selectors.experiments import experiment_get
from engine.selectors.runs import run_table
from engine.services import experiments
from pycaret_studio.pages import show_error

FORM_PARTIAL = "engine/_experiment_form.html"


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
    context = {
        "dataset": dataset,
        "project": project,
        "experiment_form": form,
        "can_write": "write" in permissions_in(request, project.workspace),
    }
    template = FORM_PARTIAL if request.htmx else "engine/experiment_form.html"
    return render(request, template, context, status=status)


@login_required
def experiment_detail(request, experiment_id: int):
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    context = {
        "experiment": experiment,
        "dataset": experiment.dataset,
        "project": experiment.project,
        "table": run_table(experiment=experiment, params=request.GET),
    }
    template = (
        "engine/experiment_detail.html#experiment-body"
        if request.htmx
        else "engine/experiment_detail.html"
    )
    return render(request, template, context)
