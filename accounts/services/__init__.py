"""Writes for accounts, one module per entity: users and workspaces, members and their role
rules, invitations, API keys, and the audit trail. The names are gathered here, so callers
write `from accounts.services import audit_record` whichever module holds it."""

from accounts.services.audit import audit_record
from accounts.services.invitations import (
    invitation_accept,
    invitation_cancel,
    invitation_create,
    invitation_decline,
)
from accounts.services.keys import (
    DEFAULT_KEY_SCOPES,
    DISPLAY_PREFIX_LENGTH,
    KEY_PREFIX,
    api_key_create,
    api_key_hash,
    api_key_revoke,
)
from accounts.services.members import member_change_role, member_leave, member_remove
from accounts.services.users import (
    signup_check,
    user_signup,
    workspace_choose,
    workspace_create,
)

__all__ = [
    "DEFAULT_KEY_SCOPES",
    "DISPLAY_PREFIX_LENGTH",
    "KEY_PREFIX",
    "api_key_create",
    "api_key_hash",
    "api_key_revoke",
    "audit_record",
    "invitation_accept",
    "invitation_cancel",
    "invitation_create",
    "invitation_decline",
    "member_change_role",
    "member_leave",
    "member_remove",
    "signup_check",
    "user_signup",
    "workspace_choose",
    "workspace_create",
]
