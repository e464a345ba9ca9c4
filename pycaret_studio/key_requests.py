"""API-key requests skip Django's session, CSRF, authentication and messages middleware.

A script calling `/api/v1/` with an `X-PyCaret-Key` header and no session cookie authenticates
with its key alone (accounts/auth.py): it has no session to load or save, no messages, and no
cookie for CSRF to protect. The WSGI application (pycaret_studio/wsgi.py) therefore holds two
Django handlers built from the same settings: the full one, and one whose middleware list
leaves those four out (`request.user` is the anonymous user until the key authenticates the
request). Each request goes to one of them by `is_key_request`.

Anything else gets the full stack: a page, and every API request that carries the session
cookie, with or without a key, so cookie authentication keeps its CSRF check (django-ninja's
session auth enforces it) and a session that also sends a key is still refused on the key and
membership routes. The security headers (SecurityMiddleware, CSP, X-Frame-Options), the
request id and everything else in MIDDLEWARE run for every request. settings.MIDDLEWARE
itself is unchanged, so Django's checks (`check --deploy`) see the stock classes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.wsgi import WSGIHandler
from django.http import parse_cookie

API_PREFIX = "/api/v1/"
KEY_META = "HTTP_X_PYCARET_KEY"  # the X-PyCaret-Key header, as WSGI names it
SKIPPED = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"
ANONYMOUS = "pycaret_studio.key_requests.AnonymousUserMiddleware"


def is_key_request(environ: dict) -> bool:
    """An API request that carries a key header and no session cookie."""
    if KEY_META not in environ or not environ.get("PATH_INFO", "").startswith(API_PREFIX):
        return False
    cookies = environ.get("HTTP_COOKIE")
    return not cookies or settings.SESSION_COOKIE_NAME not in parse_cookie(cookies)


def key_request_middleware(middleware: list[str]) -> list[str]:
    """MIDDLEWARE without the session, CSRF and messages middleware, and with the anonymous
    user in place of the session's."""
    return [ANONYMOUS if m == AUTHENTICATION else m for m in middleware if m not in SKIPPED]


class AnonymousUserMiddleware:
    """`request.user` for a key request until its key authenticates it (ApiKeyAuth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = AnonymousUser()
        return self.get_response(request)


class KeyRequestHandler(WSGIHandler):
    """Django's WSGI handler with `key_request_middleware(settings.MIDDLEWARE)`."""

    def load_middleware(self, is_async=False):
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = key_request_middleware(full)
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class StudioWSGIApplication:
    """Key requests to the lean handler, everything else to the full one."""

    def __init__(self) -> None:
        self.full = WSGIHandler()
        self.key_requests = KeyRequestHandler()

    def __call__(self, environ, start_response):
        handler = self.key_requests if is_key_request(environ) else self.full
        return handler(environ, start_response)
