"""Object-level access: the one place that restricts queries to the caller's workspaces.

Every read of a workspace-owned object goes through `scoped` or `get_scoped_or_404`, so
another workspace's object answers 404, never 403. Permission checks inside a visible
workspace (roles, key scopes) go through `require`, which answers 403.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from accounts.models import ROLE_PERMISSIONS, Membership, Workspace


def _api_key(request):
    return getattr(request, "api_key", None)


def visible_workspaces(request) -> QuerySet[Workspace]:
    """The workspaces the caller may see: its memberships, narrowed to a key's workspace."""
    user = request.user
    if not user.is_authenticated:
        return Workspace.objects.none()
    workspaces = Workspace.objects.filter(memberships__user=user)
    key = _api_key(request)
    if key is not None and key.workspace_id is not None:
        workspaces = workspaces.filter(pk=key.workspace_id)
    return workspaces


def scoped(request, queryset: QuerySet, *, workspace_field: str = "workspace") -> QuerySet:
    """Restrict a queryset to objects in the caller's visible workspaces."""
    return queryset.filter(**{f"{workspace_field}__in": visible_workspaces(request)})


def get_scoped_or_404(
    request, queryset: QuerySet, *, workspace_field: str = "workspace", **lookup
) -> Model:
    try:
        return scoped(request, queryset, workspace_field=workspace_field).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No such {queryset.model._meta.verbose_name}.") from exc


NO_ROLE = ""  # cached for a non-member, so that a miss and "no membership" differ


def role_cache_key(user_id: int, workspace_id: int) -> str:
    return f"role:{user_id}:{workspace_id}"


def _role(request, user, workspace: Workspace) -> str | None:
    """The user's role in the workspace.

    For an API-key request (`request` is passed only then) the role is remembered for the rest
    of the request, and kept in the process's serving cache for STUDIO_SERVING_CACHE_S seconds,
    like the key itself (accounts/auth.py): a cached predict request reads no table at all.
    Adding, changing or removing a membership drops the entry at once in the process that does
    it (accounts/signals.py); other processes see the change within the TTL, as they see a
    revoked key. Pages and session requests read the membership every time."""
    if request is None:
        return _membership_role(user.pk, workspace.pk)
    memo = request.__dict__.setdefault("_studio_roles", {})
    if (user.pk, workspace.pk) not in memo:
        cache_key = role_cache_key(user.pk, workspace.pk)
        role = caches["serving"].get(cache_key)
        if role is None:
            role = _membership_role(user.pk, workspace.pk) or NO_ROLE
            caches["serving"].set(cache_key, role, timeout=settings.STUDIO_SERVING_CACHE_S)
        memo[user.pk, workspace.pk] = role or None
    return memo[user.pk, workspace.pk]


def _membership_role(user_id: int, workspace_id: int) -> str | None:
    # One row at most (one membership per user and workspace), so no ordering: `first()`
    # would order by Membership's default ordering and join the workspace and user tables
    # for it, which made this query cost about 4x as much on the predict path.
    return next(
        iter(
            Membership.objects.filter(user_id=user_id, workspace_id=workspace_id)
            .order_by()
            .values_list("role", flat=True)[:1]
        ),
        None,
    )


def may_see(request, workspace: Workspace) -> bool:
    """Whether `workspace` is among the caller's visible workspaces (`visible_workspaces`),
    for an object found without `scoped` (from a cache): a member, and the key's workspace."""
    user = request.user
    if not user.is_authenticated:
        return False
    key = _api_key(request)
    if key is not None and key.workspace_id is not None and key.workspace_id != workspace.pk:
        return False
    return _role(request if key is not None else None, user, workspace) is not None


def permissions_in(request, workspace: Workspace, *, user=None) -> frozenset[str]:
    """What the caller may do in a workspace: the role, intersected with a key's scopes.

    The caller is the request's user and key; without a request (a management command, the
    worker, a test), `user` and their role alone.
    """
    if request is not None:
        user, key = request.user, _api_key(request)
    else:
        key = None
    if user is None or not user.is_authenticated:
        return frozenset()
    role = _role(request if key is not None else None, user, workspace)
    if role is None:
        return frozenset()
    allowed = ROLE_PERMISSIONS[role]
    if key is not None:
        if key.workspace_id is not None and key.workspace_id != workspace.pk:
            return frozenset()
        allowed = allowed & frozenset(key.scopes)
    return allowed


def require(request, workspace: Workspace, permission: str, *, user=None) -> None:
    """Raise 403 unless the caller holds `permission` in `workspace`: the one permission check
    that services call, and that templates ask (through `permissions_in`) to show buttons."""
    if permission not in permissions_in(request, workspace, user=user):
        raise PermissionDenied(f"This needs the '{permission}' permission in {workspace.name}.")
