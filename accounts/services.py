"""Writes for accounts: signup, workspaces, members, API keys and the audit trail."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.access import require
from accounts.models import ApiKey, AuditEvent, Membership, Role, Scope, User, Workspace
from engine.errors import Conflict, InvalidInput

DEFAULT_KEY_SCOPES = [Scope.READ]


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


# API keys.

KEY_PREFIX = "pck_"
DISPLAY_PREFIX_LENGTH = 12


def api_key_hash(plaintext: str) -> str:
    # A key has 256 bits of entropy, so a fast hash is safe here; no password hasher needed.
    return hashlib.sha256(plaintext.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    workspace: Workspace | None = None,
    expires_in_days: int | None = None,
    request=None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A key needs a name.", code="invalid_key")
    scopes = sorted(set(scopes or DEFAULT_KEY_SCOPES))
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise InvalidInput(f"Unknown scopes: {', '.join(sorted(unknown))}.", code="invalid_key")
    if (
        workspace is not None
        and not Membership.objects.filter(user=user, workspace=workspace).exists()
    ):
        raise InvalidInput("You are not a member of that workspace.", code="invalid_key")
    while True:
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        prefix = plaintext[:DISPLAY_PREFIX_LENGTH]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    key = ApiKey.objects.create(
        user=user,
        workspace=workspace,
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(plaintext),
        scopes=scopes,
        expires_at=expires_at,
    )
    audit_record(
        action="api_key.created",
        request=request,
        actor=user,
        workspace=workspace,
        target=key,
        metadata={"prefix": prefix, "scopes": scopes, "name": name},
    )
    return key, plaintext


def api_key_revoke(*, key: ApiKey, by: User, request=None) -> ApiKey:
    """Soft revoke: the row stays, with revoked_at set. Only the owner or a superuser may."""
    if key.user_id != by.pk and not by.is_superuser:
        raise PermissionDenied("Only the key's owner or a superuser can revoke it.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            action="api_key.revoked",
            request=request,
            actor=by,
            workspace=key.workspace,
            target=key,
            metadata={"prefix": key.prefix},
        )
    return key


# Members.


def _owner_count(workspace: Workspace) -> int:
    # Lock the owner rows so two concurrent demotions cannot both pass the check.
    owners = Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER)
    return len(list(owners))


def _invalid_member(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_member", fields={"identifier": [(message, "")]})


def _last_owner(message: str) -> Conflict:
    return Conflict(message, code="last_owner")


@transaction.atomic
def member_add(
    *, workspace: Workspace, identifier: str, role: str, request=None, by: User | None = None
) -> Membership:
    require(request, workspace, "manage_members", user=by)
    identifier = (identifier or "").strip()
    user = User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier)).first()
    if user is None or not identifier:
        raise _invalid_member(f"No user with username or email '{identifier}'.")
    if role not in Role.values:
        raise _invalid_member(f"Unknown role '{role}'.")
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise _invalid_member(f"{user.username} is already a member.")
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    audit_record(
        action="member.added",
        request=request,
        workspace=workspace,
        target=membership,
        metadata={"user": user.username, "role": role},
    )
    return membership


@transaction.atomic
def member_change_role(
    *, membership: Membership, role: str, request=None, by: User | None = None
) -> Membership:
    require(request, membership.workspace, "manage_members", user=by)
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'.", code="invalid_member")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and _owner_count(membership.workspace) <= 1
    ):
        raise _last_owner("The last owner cannot be demoted. Make someone else an owner first.")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="member.changed",
        request=request,
        workspace=membership.workspace,
        target=membership,
        metadata={"user": membership.user.username, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, request=None, by: User | None = None) -> None:
    require(request, membership.workspace, "manage_members", user=by)
    if membership.role == Role.OWNER and _owner_count(membership.workspace) <= 1:
        raise _last_owner("The last owner cannot be removed.")
    audit_record(
        action="member.removed",
        request=request,
        workspace=membership.workspace,
        target=membership,
        metadata={"user": membership.user.username, "role": membership.role},
    )
    membership.delete()
