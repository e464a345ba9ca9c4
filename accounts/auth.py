"""Authentication for the JSON API: an `X-PyCaret-Key` header, or the session cookie.

Key lookup is by the 12-character display prefix, then `hmac.compare_digest` on the SHA-256.
Every bad key (unknown, malformed, revoked, expired) gets the same 401 body; failures are
audited by prefix only and throttled per client IP. Only failures count, and a good key is never
refused by the throttle: behind a shared proxy or NAT, one client's bad keys must not lock out
the others.

Managing keys and one's own memberships takes a signed-in session (`session_only_auth`): a key,
if it leaked, must not be able to mint, list or revoke keys, nor widen its own reach by joining
workspaces.
"""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import SessionAuth
from ninja.security.apikey import APIKeyHeader

from accounts.client_ip import client_ip
from accounts.models import ApiKey
from accounts.services import DISPLAY_PREFIX_LENGTH, KEY_PREFIX, api_key_hash, audit_record
from engine.errors import StudioError

logger = logging.getLogger(__name__)

KEY_HEADER = "X-PyCaret-Key"
FAILURE_LIMIT = 20  # failed key authentications per client IP per minute
FAILURE_WINDOW_S = 60
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 128
QUERY_KEY_NAMES = {"key", "api_key", "apikey", "token", "x-pycaret-key"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _failure_cache_key(ip: str | None) -> str:
    return f"auth-failures:{ip or 'unknown'}"


def _throttled(ip: str | None) -> bool:
    return (cache.get(_failure_cache_key(ip)) or 0) >= FAILURE_LIMIT


def _count_failure(ip: str | None) -> None:
    key = _failure_cache_key(ip)
    if cache.add(key, 1, timeout=FAILURE_WINDOW_S):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=FAILURE_WINDOW_S)


def key_in_query_string(request) -> bool:
    return any(
        name.lower() in QUERY_KEY_NAMES or KEY_PREFIX in value
        for name, values in request.GET.lists()
        for value in values
    )


def _reject(request, presented: str, reason: str):
    ip = client_ip(request)
    throttled = _throttled(ip)
    _count_failure(ip)
    # Audit the display prefix only, and only if it looks like one of ours: never the secret.
    prefix = presented[:DISPLAY_PREFIX_LENGTH] if presented.startswith(KEY_PREFIX) else ""
    if not throttled:
        # Past the limit, a flood of failures would flood the audit log too: it is enough to
        # have recorded the first FAILURE_LIMIT of each window.
        audit_record(
            action="auth.failed",
            request=request,
            metadata={"prefix": prefix, "reason": reason, "path": request.path[:200]},
        )
    logger.info("API key authentication failed (%s) prefix=%r", reason, prefix)
    if throttled:
        raise StudioError(
            "Too many failed authentications; try again in a minute.",
            status=429,
            code="throttled",
        )
    raise AuthenticationError(401, "Invalid API key.")


def _malformed(presented: str) -> bool:
    return (
        not presented.startswith(KEY_PREFIX)
        or len(presented) > MAX_KEY_LENGTH
        or not presented.isascii()
    )


def key_cache_key(key_hash: str) -> str:
    """The serving cache's entry for a key: named by the key's SHA-256, never the key."""
    return f"apikey:{key_hash}"


def authenticate_key(request, presented: str) -> ApiKey:
    """Return the active key matching `presented`, or raise the one 401 for every bad key
    (429 instead, once this client IP has failed FAILURE_LIMIT times in the window).

    A good key, with its owner, is kept in the process's serving cache for
    STUDIO_SERVING_CACHE_S seconds under its SHA-256; status and expiry are checked on every
    request, and revoking a key or deactivating its owner drops the entry at once here."""
    if _malformed(presented):
        _reject(request, presented, "malformed")
    presented_hash = api_key_hash(presented)
    serving_cache = caches["serving"]
    cached = serving_cache.get(key_cache_key(presented_hash))
    key = cached
    if key is None:
        try:
            # A unique-index lookup with no ORDER BY: one cheap query per request.
            key = ApiKey.objects.select_related("user").get(
                prefix=presented[:DISPLAY_PREFIX_LENGTH]
            )
        except ApiKey.DoesNotExist:
            key = None
        if key is None or not hmac.compare_digest(key.key_hash, presented_hash):
            _reject(request, presented, "unknown")
    if key.status != "active" or not key.user.is_active:
        _reject(request, presented, key.status)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        if cached is not None:
            # A cached copy is not refreshed (that would extend its life past the TTL): the
            # next request reads the row again.
            serving_cache.delete(key_cache_key(presented_hash))
            return key
    if cached is None:
        serving_cache.set(
            key_cache_key(presented_hash), key, timeout=settings.STUDIO_SERVING_CACHE_S
        )
    return key


class ApiKeyAuth(APIKeyHeader):
    """`X-PyCaret-Key: pck_…`. Without the header, the next auth class (the session) is tried."""

    param_name = KEY_HEADER

    def __call__(self, request):
        if key_in_query_string(request):
            raise AuthenticationError(
                401, "API keys in the URL are refused; send the X-PyCaret-Key header."
            )
        return super().__call__(request)

    def authenticate(self, request, key):
        if key is None:
            return None
        api_key = authenticate_key(request, key)
        if request.method in SAFE_METHODS and "read" not in api_key.scopes:
            raise HttpError(403, "This API key lacks the 'read' scope.")
        request.user = api_key.user
        request.api_key = api_key
        return api_key


class StudioSessionAuth(SessionAuth):
    """Django's session cookie, with CSRF enforced on unsafe methods."""

    def _get_key(self, request):
        # CSRF protects a signed-in session; a request without one is answered 401, not with
        # a CSRF 403 that would send a script looking for a token it does not need.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        if request.user.is_authenticated:
            return request.user
        return None


class SessionOnlyAuth(StudioSessionAuth):
    """The session cookie alone. Without a session the request has no credentials here (401),
    whatever key it carries; a session that also sends a key is refused (403), so a script
    cannot borrow a browser's session to do what its key may not."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and request.headers.get(KEY_HEADER):
            raise HttpError(
                403,
                "API keys cannot manage keys or memberships; sign in to the studio instead.",
            )
        return user


api_key_auth = ApiKeyAuth()
session_auth = StudioSessionAuth(csrf=True)
session_only_auth = SessionOnlyAuth(csrf=True)

# Every authenticated route uses this list: a key header, else the session cookie.
API_AUTH = [api_key_auth, session_auth]
