"""API routes for projects."""

from ninja import Query, Router

from accounts.access import get_scoped_or_404
from accounts.models import Workspace
from accounts.selectors import workspace_default
from engine.errors import InvalidInput
from engine.schemas.projects import ProjectIn, ProjectOut, ProjectPatch
from engine.selectors.projects import project_get, project_list
from engine.services import projects
from pycaret_studio.pagination import PageQuery, paged, paginate
from pycaret_studio.schemas import Id

router = Router(tags=["projects"])


def _workspace_for_create(request, workspace_id: int | None) -> Workspace:
    if workspace_id is not None:
        return get_scoped_or_404(
            request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
        )
    # The one the caller last chose, else their own: never simply the lowest id.
    workspace = workspace_default(request=request)
    if workspace is None:
        raise InvalidInput("You are not a member of any workspace.", code="no_workspace")
    return workspace


@router.get("/projects", response=paged(ProjectOut))
def projects_list(request, page: Query[PageQuery], workspace_id: Id | None = None):
    """The caller's projects (of one workspace with ?workspace_id=), last updated first."""
    workspace = None
    if workspace_id is not None:
        workspace = get_scoped_or_404(
            request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
        )
    projects = project_list(request=request, workspace=workspace).order_by("-updated_at", "-id")
    return paginate(request, projects, page)


@router.post("/projects", response={201: ProjectOut})
def projects_create(request, payload: ProjectIn):
    workspace = _workspace_for_create(request, payload.workspace_id)
    project = projects.project_create(
        workspace=workspace,
        name=payload.name,
        description=payload.description,
        user=request.user,
        request=request,
    )
    return 201, project


@router.get("/projects/{project_id}", response=ProjectOut)
def projects_get(request, project_id: Id):
    return project_get(request=request, project_id=project_id)


@router.patch("/projects/{project_id}", response=ProjectOut)
def projects_update(request, project_id: Id, payload: ProjectPatch):
    project = project_get(request=request, project_id=project_id)
    return projects.project_update(
        project=project,
        name=payload.name,
        description=payload.description,
        user=request.user,
        request=request,
    )


@router.delete("/projects/{project_id}", response={204: None})
def projects_delete(request, project_id: Id):
    project = project_get(request=request, project_id=project_id)
    projects.project_delete(project=project, user=request.user, request=request)
    return 204, None
