"""API routes for projects."""

from django.core.exceptions import ValidationError
from ninja import Router

from accounts.access import get_scoped_or_404, require, visible_workspaces
from accounts.models import Workspace
from engine.schemas.projects import ProjectIn, ProjectOut, ProjectPatch
from engine.selectors import project_get, project_list
from engine.services.projects import project_create, project_delete, project_update
from pycaret_studio.errors import ApiError

router = Router(tags=["projects"])

CONFLICT_CODES = {"duplicate_name"}


def api_error(exc: ValidationError) -> ApiError:
    """A service's field-keyed ValidationError as one API error naming every problem."""
    errors = (
        [e for field_errors in exc.error_dict.values() for e in field_errors]
        if hasattr(exc, "error_dict")
        else exc.error_list
    )
    messages = [message for e in errors for message in e.messages]
    code = next((e.code for e in errors if e.code), None) or "validation_error"
    status = 409 if code in CONFLICT_CODES else 422
    return ApiError(status, " ".join(messages), code)


def _workspace_for_create(request, workspace_id: int | None) -> Workspace:
    if workspace_id is not None:
        return get_scoped_or_404(
            request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
        )
    workspace = visible_workspaces(request).order_by("pk").first()
    if workspace is None:
        raise ApiError(422, "You are not a member of any workspace.", "no_workspace")
    return workspace


@router.get("/projects", response=list[ProjectOut])
def projects_list(request, workspace_id: int | None = None):
    workspace = None
    if workspace_id is not None:
        workspace = get_scoped_or_404(
            request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
        )
    return project_list(request=request, workspace=workspace)


@router.post("/projects", response={201: ProjectOut})
def projects_create(request, payload: ProjectIn):
    workspace = _workspace_for_create(request, payload.workspace_id)
    require(request, workspace, "write")
    try:
        project = project_create(
            workspace=workspace,
            name=payload.name,
            description=payload.description,
            user=request.user,
        )
    except ValidationError as exc:
        raise api_error(exc) from exc
    return 201, project


@router.get("/projects/{project_id}", response=ProjectOut)
def projects_get(request, project_id: int):
    return project_get(request=request, project_id=project_id)


@router.patch("/projects/{project_id}", response=ProjectOut)
def projects_update(request, project_id: int, payload: ProjectPatch):
    project = project_get(request=request, project_id=project_id)
    require(request, project.workspace, "write")
    try:
        return project_update(project=project, name=payload.name, description=payload.description)
    except ValidationError as exc:
        raise api_error(exc) from exc


@router.delete("/projects/{project_id}", response={204: None})
def projects_delete(request, project_id: int):
    project = project_get(request=request, project_id=project_id)
    require(request, project.workspace, "write")
    project_delete(project=project)
    return 204, None
