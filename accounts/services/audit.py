"""The audit trail: one append-only event per security-relevant action."""

from __future__ import annotations

from accounts.client_ip import client_ip
from accounts.models import AuditEvent, User, Workspace


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
