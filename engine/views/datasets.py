"""Dataset pages: upload (on the project page), the profile page and the original's download."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from accounts.access import permissions_in
from engine import downloads, uploads
from engine.errors import StudioError
from engine.forms import DatasetUploadForm, ExperimentForm
from engine.selectors.datasets import dataset_get
from engine.selectors.projects import project_get
from engine.services import datasets
from engine.views.projects import project_context
from pycaret_studio.pagination import page_of, template_for

UPLOAD_PARTIAL = "engine/_dataset_upload.html"


def _render_upload(request, project, form, *, status: int = 200, uploaded=None, error=""):
    extra = {"upload_form": form, "uploaded": uploaded, "upload_error": error}
    if request.htmx:
        return render(request, UPLOAD_PARTIAL, {"project": project, **extra}, status=status)
    context = project_context(request, project, **extra)
    return render(request, "engine/project_detail.html", context, status=status)


def _rejected(request, project, error: StudioError):
    return _render_upload(
        request, project, DatasetUploadForm(), status=error.status, error=error.message
    )


# CSRF is checked inside, after the size check: Django's CSRF middleware reads request.POST,
# which would spool a whole oversized upload to disk before the view could refuse it.
@csrf_exempt
@login_required
@require_POST
def dataset_upload(request, project_id: int):
    project = project_get(request=request, project_id=project_id)
    too_large = uploads.upload_rejected_early(request)
    if too_large is not None:
        return _rejected(request, project, too_large)
    csrf_failure = uploads.csrf_failure(request)
    if csrf_failure is not None:
        return csrf_failure
    form = DatasetUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_upload(request, project, form, status=422)
    upload = form.cleaned_data["file"]
    try:
        dataset = datasets.dataset_ingest(
            project=project,
            file=upload,
            filename=upload.name,
            name=form.cleaned_data["name"],
            user=request.user,
            request=request,
        )
    except StudioError as exc:
        return _rejected(request, project, exc)
    if not request.htmx:
        messages.success(request, f"Uploaded “{dataset.name}”.")
        return redirect("dataset_detail", dataset_id=dataset.pk)
    response = _render_upload(request, project, DatasetUploadForm(), uploaded=dataset)
    return trigger_client_event(response, "datasetUploaded", {"id": dataset.pk})


@login_required
def dataset_detail(request, dataset_id: int):
    dataset = dataset_get(request=request, dataset_id=dataset_id)
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "experiments": page_of(
            request, dataset.experiments.order_by("-created_at", "-id"), param="experiments_page"
        ),
        "can_write": "write" in permissions_in(request, dataset.project.workspace),
        "experiment_form": ExperimentForm(
            dataset=dataset, initial={"name": f"{dataset.name} experiment"}
        ),
    }
    template = template_for(
        request,
        "engine/dataset_detail.html",
        fragments=("dataset-experiments",),
        default="dataset-body",
    )
    return render(request, template, context)


@login_required
def dataset_download(request, dataset_id: int):
    """The original file, access-checked; MEDIA_URL never serves it."""
    return downloads.dataset_original(dataset_get(request=request, dataset_id=dataset_id))
