"""API-key requests skip the session, CSRF, authentication and messages middleware; everything
else, including every request that carries the session cookie, gets the full stack.

Through the WSGI application gunicorn serves (pycaret_studio.wsgi), not the test client, whose
handler always runs the full MIDDLEWARE."""

import io
import json
import sys

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

from accounts.services import api_key_create
from accounts.tests.factories import login_client, workspace_of
from engine.models import Project
from pycaret_studio.key_requests import StudioWSGIApplication, is_key_request

pytestmark = pytest.mark.django_db(transaction=True)

SECURITY_HEADERS = [
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Security-Policy",
]
SPIED = [
    (SessionMiddleware, "process_request"),
    (CsrfViewMiddleware, "process_view"),
    (AuthenticationMiddleware, "process_request"),
    (MessageMiddleware, "process_request"),
]


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The skipped middleware's entry points, recording each call (patched before the app
    is built, so the handlers bind the spies)."""
    seen: list[str] = []
    for cls, name in SPIED:
        original = getattr(cls, name)

        def spy(self, request, *args, _original=original, _cls=cls, **kwargs):
            seen.append(_cls.__name__)
            return _original(self, request, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    return seen


@pytest.fixture
def app(calls):
    return StudioWSGIApplication()


@pytest.fixture
def token(alice):
    return api_key_create(user=alice, name="script", scopes=["read", "write"])[1]


def call(app, method: str, path: str, *, key=None, cookie=None, body=None, csrf=None):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if key is not None:
        environ["HTTP_X_PYCARET_KEY"] = key
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    if csrf is not None:
        environ["HTTP_X_CSRFTOKEN"] = csrf
    started: list = []
    result = app(environ, lambda status, headers, exc_info=None: started.extend([status, headers]))
    try:
        content = b"".join(result)
    finally:
        result.close()
    return int(started[0].split()[0]), dict(started[1]), content


def session_cookie(user) -> str:
    client = login_client(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_a_key_request_skips_sessions_csrf_authentication_and_messages(app, calls, token):
    status, headers, content = call(app, "POST", "/api/v1/projects", key=token, body={"name": "A"})
    assert status == 201, content
    assert Project.objects.get().name == "A"
    assert calls == []
    assert "Set-Cookie" not in headers
    status, _, _ = call(app, "GET", "/api/v1/projects", key=token)
    assert status == 200 and calls == []


def test_a_key_request_keeps_every_security_header(app, alice, token):
    _, keyed, _ = call(app, "GET", "/api/v1/projects", key=token)
    status, full, _ = call(app, "GET", "/api/v1/projects", cookie=session_cookie(alice))
    assert status == 200
    for header in SECURITY_HEADERS:
        assert keyed.get(header) == full.get(header) is not None, header
    assert keyed["X-Request-ID"] and keyed["X-Request-ID"] != full["X-Request-ID"]


def test_a_bad_key_is_a_401_on_the_lean_path(app, calls):
    status, _, content = call(app, "GET", "/api/v1/projects", key="pck_not-a-real-key")
    assert status == 401 and json.loads(content)["detail"] == "Invalid API key."
    assert calls == []


def test_a_request_with_the_session_cookie_gets_the_full_stack(app, calls, alice, token):
    cookie = session_cookie(alice)
    status, _, _ = call(app, "GET", "/api/v1/projects", key=token, cookie=cookie)
    assert status == 200
    assert set(calls) == {c.__name__ for c, _ in SPIED}
    # A session that also sends a key is still refused where only a session may act.
    leave = f"/api/v1/workspaces/{workspace_of(alice).pk}/leave"
    status, _, _ = call(app, "POST", leave, key=token, cookie=cookie)
    assert status == 403


def test_csrf_still_applies_to_a_cookie_request(app, alice, token):
    cookie = session_cookie(alice)
    status, _, content = call(app, "POST", "/api/v1/projects", cookie=cookie, body={"name": "B"})
    assert status == 403 and "CSRF" in json.loads(content)["detail"]
    # With a key as well, the cookie still takes the full path: the key authenticates it.
    status, _, _ = call(
        app, "POST", "/api/v1/projects", key=token, cookie=cookie, body={"name": "B"}
    )
    assert status == 201
    assert list(Project.objects.values_list("name", flat=True)) == ["B"]


def test_pages_and_keyless_requests_take_the_full_path():
    base = {"PATH_INFO": "/api/v1/projects", "HTTP_X_PYCARET_KEY": "pck_x"}
    assert is_key_request(base)
    assert is_key_request({**base, "HTTP_COOKIE": "theme=dark"})
    assert not is_key_request({**base, "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}=abc"})
    assert not is_key_request({**base, "PATH_INFO": "/projects/"})
    assert not is_key_request({"PATH_INFO": "/api/v1/projects"})
