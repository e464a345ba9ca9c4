"""API routes for datasets: upload (multipart) and the profile."""

from ninja import File, Form, Query, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from engine import uploads
from engine.schemas.datasets import DatasetDetail, DatasetOut
from engine.selectors.datasets import dataset_get, dataset_list
from engine.selectors.projects import project_get
from engine.services import archive, datasets
from pycaret_studio.pagination import PageQuery, paged, paginate
from pycaret_studio.schemas import LONG_NAME_MAX, Id, Text

router = Router(tags=["datasets"])


@router.post(
    "/projects/{project_id}/datasets",
    response={201: DatasetOut},
    summary="Upload a CSV, TSV or Parquet file",
)
@decorate_view(uploads.reject_oversized)
def datasets_upload(
    request, project_id: Id, file: File[UploadedFile], name: Form[Text(LONG_NAME_MAX) | None] = None
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


@router.get("/projects/{project_id}/datasets", response=paged(DatasetOut))
def datasets_list(request, project_id: Id, page: Query[PageQuery], archived: bool = False):
    """The project's datasets, newest first; archived ones too with ?archived=true."""
    project = project_get(request=request, project_id=project_id)
    datasets = dataset_list(project=project, archived=archived).order_by("-created_at", "-id")
    return paginate(request, datasets, page)


@router.get("/datasets/{dataset_id}", response=DatasetDetail)
def datasets_get(request, dataset_id: Id):
    return dataset_get(request=request, dataset_id=dataset_id)


@router.post("/datasets/{dataset_id}/archive", response=DatasetOut)
def datasets_archive(request, dataset_id: Id):
    """Hide the dataset from the default lists; nothing is deleted."""
    dataset = dataset_get(request=request, dataset_id=dataset_id)
    return archive.archive_set(obj=dataset, archived=True, user=request.user, request=request)


@router.post("/datasets/{dataset_id}/restore", response=DatasetOut)
def datasets_restore(request, dataset_id: Id):
    dataset = dataset_get(request=request, dataset_id=dataset_id)
    return archive.archive_set(obj=dataset, archived=False, user=request.user, request=request)


@router.delete("/datasets/{dataset_id}", response={204: None})
def datasets_delete(request, dataset_id: Id):
    """409 while experiments use the dataset (they are named)."""
    dataset = dataset_get(request=request, dataset_id=dataset_id)
    archive.object_delete(obj=dataset, user=request.user, request=request)
    return 204, None
