"""Archive, restore and delete pages for datasets, experiments and runs: POST archive and
restore from the object's page; delete through a confirmation page that says what goes with it
and what is in the way."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import require
from engine.errors import StudioError
from engine.models import Run
from engine.selectors.datasets import dataset_get
from engine.selectors.experiments import experiment_get
from engine.selectors.runs import run_get
from engine.services import archive
from pycaret_studio.pages import show_error

CONFIRM = "engine/confirm_delete.html"


def _dataset(request, pk):
    return dataset_get(request=request, dataset_id=pk)


def _experiment(request, pk):
    return experiment_get(request=request, experiment_id=pk)


def _run(request, pk):
    return run_get(request=request, run_id=pk)


def _detail_url(obj) -> str:
    kind = type(obj).__name__.lower()
    return reverse(f"{kind}_detail", args=[obj.pk])


def _parent_url(obj) -> str:
    """Where to go once the object is gone: its experiment for a run, else its project."""
    if isinstance(obj, Run):
        return reverse("experiment_detail", args=[obj.experiment_id])
    return reverse("project_detail", args=[obj.project_id])


def _label(obj) -> str:
    return f"Run {obj.pk}" if isinstance(obj, Run) else f"“{obj.name}”"


def _go(request, url):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _archive(request, obj, archived: bool):
    archive.archive_set(obj=obj, archived=archived, user=request.user, request=request)
    if archived:
        messages.success(request, f"{_label(obj)} archived: hidden from lists until restored.")
    else:
        messages.success(request, f"{_label(obj)} restored.")
    return _go(request, _detail_url(obj))


def _delete(request, obj):
    kind = type(obj).__name__.lower()
    workspace = obj.experiment.project.workspace if isinstance(obj, Run) else obj.project.workspace
    require(request, workspace, "write")
    status, error = 200, ""
    if request.method == "POST":
        label, parent = _label(obj), _parent_url(obj)
        try:
            archive.object_delete(obj=obj, user=request.user, request=request)
        except StudioError as exc:
            status, error = exc.status, exc.message
            if not request.htmx:
                show_error(request, exc)
        else:
            messages.success(request, f"{label} deleted.")
            return _go(request, parent)
    context = {
        "obj": obj,
        "kind": kind,
        "label": _label(obj),
        "preview": archive.delete_preview(obj),
        "detail_url": _detail_url(obj),
        "delete_url": reverse(f"{kind}_delete", args=[obj.pk]),
        "error": error,
    }
    template = f"{CONFIRM}#delete-confirm" if request.htmx else CONFIRM
    return render(request, template, context, status=status)


@login_required
@require_POST
def dataset_archive(request, dataset_id: int):
    return _archive(request, _dataset(request, dataset_id), True)


@login_required
@require_POST
def dataset_restore(request, dataset_id: int):
    return _archive(request, _dataset(request, dataset_id), False)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_delete(request, dataset_id: int):
    return _delete(request, _dataset(request, dataset_id))


@login_required
@require_POST
def experiment_archive(request, experiment_id: int):
    return _archive(request, _experiment(request, experiment_id), True)


@login_required
@require_POST
def experiment_restore(request, experiment_id: int):
    return _archive(request, _experiment(request, experiment_id), False)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete(request, experiment_id: int):
    return _delete(request, _experiment(request, experiment_id))


@login_required
@require_POST
def run_archive(request, run_id: int):
    return _archive(request, _run(request, run_id), True)


@login_required
@require_POST
def run_restore(request, run_id: int):
    return _archive(request, _run(request, run_id), False)


@login_required
@require_http_methods(["GET", "POST"])
def run_delete(request, run_id: int):
    return _delete(request, _run(request, run_id))
