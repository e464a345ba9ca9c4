"""Django's session, CSRF, authentication and messages middleware, skipped for API-key requests.

A script calling `/api/v1/` with an `X-PyCaret-Key` header and no session cookie authenticates
with its key alone (accounts/auth.py): it has no session to load or save, no messages, and no
cookie for CSRF to protect. For such a request these subclasses pass straight to the next
middleware and set `request.user` to the anonymous user until the key authenticates it.

Anything else gets the full stack: a page, and every API request that carries the session
cookie, with or without a key, so cookie authentication keeps its CSRF check (django-ninja's
session auth enforces it) and a session that also sends a key is still refused on the key and
membership routes. The security headers (SecurityMiddleware, CSP, X-Frame-Options) and the
request id are not touched: they run for every request.

The classes subclass Django's own, so the admin's system checks still find them.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

API_PREFIX = "/api/v1/"
KEY_META = "HTTP_X_PYCARET_KEY"  # the X-PyCaret-Key header, as WSGI names it


def is_key_request(request) -> bool:
    """An API request that carries a key header and no session cookie."""
    return (
        request.path_info.startswith(API_PREFIX)
        and KEY_META in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class KeyRequestSessionMiddleware(SessionMiddleware):
    def __call__(self, request):
        if is_key_request(request):
            return self.get_response(request)
        return super().__call__(request)


class KeyRequestCsrfViewMiddleware(CsrfViewMiddleware):
    def __call__(self, request):
        if is_key_request(request):
            return self.get_response(request)
        return super().__call__(request)

    def process_view(self, request, callback, callback_args, callback_kwargs):
        if is_key_request(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class KeyRequestAuthenticationMiddleware(AuthenticationMiddleware):
    def __call__(self, request):
        if is_key_request(request):
            request.user = AnonymousUser()  # until the key authenticates the request
            return self.get_response(request)
        return super().__call__(request)


class KeyRequestMessageMiddleware(MessageMiddleware):
    def __call__(self, request):
        if is_key_request(request):
            return self.get_response(request)
        return super().__call__(request)
