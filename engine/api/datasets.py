"""API routes for datasets: upload (multipart) and the profile."""

from functools import wraps

from django.http import JsonResponse
from ninja import File, Form, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from accounts.access import require
from engine.ingest import IngestError
from engine.schemas.datasets import DatasetDetail, DatasetOut
from engine.selectors import dataset_get, dataset_list, project_get
from engine.services.datasets import dataset_ingest, upload_rejected_early
from pycaret_studio.errors import ApiError

router = Router(tags=["datasets"])


def ingest_api_error(exc: IngestError) -> ApiError:
    status = getattr(exc, "status", 422)
    code = getattr(exc, "code", None) or ("too_large" if status == 413 else "invalid_file")
    return ApiError(status, getattr(exc, "message", None) or str(exc), code)


def reject_oversized(view):
    """Answer 413 from Content-Length before authentication or parsing reads the body."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        error = upload_rejected_early(request)
        if error is not None:
            error = ingest_api_error(error)
            return JsonResponse(
                {"detail": error.message, "code": error.code}, status=error.status_code
            )
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
    require(request, project.workspace, "write")
    try:
        dataset = dataset_ingest(
            project=project, file=file, filename=file.name, name=name or "", user=request.user
        )
    except IngestError as exc:
        raise ingest_api_error(exc) from exc
    return 201, dataset


@router.get("/projects/{project_id}/datasets", response=list[DatasetOut])
def datasets_list(request, project_id: int):
    return dataset_list(project=project_get(request=request, project_id=project_id))


@router.get("/datasets/{dataset_id}", response=DatasetDetail)
def datasets_get(request, dataset_id: int):
    return dataset_get(request=request, dataset_id=dataset_id)
