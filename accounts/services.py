"""Writes for accounts: signup, workspaces and the audit trail."""

from django.db import transaction
from django.utils.text import slugify

from accounts.models import AuditEvent, Membership, Role, User, Workspace


def _unique_workspace_slug(name: str) -> str:
    base = slugify(name)[:120] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: User) -> Workspace:
    workspace = Workspace.objects.create(name=name, slug=_unique_workspace_slug(name))
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


@transaction.atomic
def user_signup(*, username: str, password: str, email: str = "") -> User:
    """Create a user with a personal workspace that they own."""
    user = User.objects.create_user(username=username, password=password, email=email)
    workspace_create(name=f"{username}'s workspace", owner=user)
    return user


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    request=None,
    actor: User | None = None,
    workspace: Workspace | None = None,
    target=None,
    metadata: dict | None = None,
) -> AuditEvent:
    """Append one audit event. The actor and key default to the request's."""
    api_key = getattr(request, "api_key", None) if request is not None else None
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor,
        api_key=api_key,
        workspace=workspace,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=client_ip(request),
        metadata=metadata or {},
    )
