"""API routes for datasets: upload (multipart) and the profile."""

from functools import wraps

from ninja import File, Form, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from engine.schemas.datasets import DatasetDetail, DatasetOut
from engine.selectors.datasets import dataset_get, dataset_list
from engine.selectors.projects import project_get
from engine.services import datasets

router = Router(tags=["datasets"])


def reject_oversized(view):
    """Answer 413 from Content-Length before authentication or parsing reads the body."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        error = datasets.upload_rejected_early(request)
        if error is not None:
            from pycaret_studio.api import api

            return api.create_response(request, error.body(), status=error.status)
        return view(request, *args, **kwargs)

    return wrapper


@router.post(
    "/projects/{project_id}/datasets",
    response={201: DatasetOut},
    summary="Upload a CSV, TSV or Parquet file",
)
@decorate_view(reject_oversized)
def datasets_upload(
    request, project_id: int, file: File[UploadedFile], name: Form[str | None] = None
):
    project = project_get(request=request, project_id=project_id)
    dataset = datasets.dataset_ingest(
        project=project,
        file=file,
        filename=file.name,
        name=name or "",
        user=request.user,
        request=request,
    )
    return 201, dataset


@router.get("/projects/{project_id}/datasets", response=list[DatasetOut])
def datasets_list(request, project_id: int):
    return dataset_list(project=project_get(request=request, project_id=project_id))


@router.get("/datasets/{dataset_id}", response=DatasetDetail)
def datasets_get(request, dataset_id: int):
    return dataset_get(request=request, dataset_id=dataset_id)
