"""Writes for personal API keys: mint (the plaintext is returned once) and soft revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, Membership, Scope, User, Workspace
from accounts.services.audit import audit_record
from engine.errors import InvalidInput

DEFAULT_KEY_SCOPES = [Scope.READ]
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
    """Soft revoke: the row stays, with revoked_at set. Only the owner or a superuser may, and
    never through an API key (not even a superuser's): a leaked key must not be able to shut
    out everyone else's."""
    if request is not None and getattr(request, "api_key", None) is not None:
        raise PermissionDenied("API keys cannot revoke keys; sign in to the studio instead.")
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
