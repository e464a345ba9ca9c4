"""API-key requests skip the session, CSRF, authentication and messages middleware; everything
else, including every request that carries the session cookie, gets the full stack."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.services import api_key_create
from accounts.tests.factories import login_client, workspace_of
from pycaret_studio.key_requests import KeyRequestCsrfViewMiddleware, is_key_request

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = [
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Security-Policy",
    "X-Request-ID",
]


@pytest.fixture
def token(alice):
    return api_key_create(user=alice, name="script", scopes=["read", "write"])[1]


def test_a_key_request_skips_sessions_messages_and_authentication(alice, token):
    response = Client().get("/api/v1/projects", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 200, response.content
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert request.user == alice  # set by the key, not by a session
    assert not response.cookies  # no session or CSRF cookie is sent back


def test_a_key_request_keeps_every_security_header(alice, token):
    keyed = Client().get("/api/v1/projects", HTTP_X_PYCARET_KEY=token)
    session = login_client(alice).get("/api/v1/projects")
    assert keyed.status_code == session.status_code == 200
    for header in SECURITY_HEADERS:
        assert keyed.has_header(header), header
        if header != "X-Request-ID":
            assert keyed[header] == session[header], header


def test_a_bad_key_is_a_401_without_the_skipped_middleware(db):
    response = Client().get("/api/v1/projects", HTTP_X_PYCARET_KEY="pck_not-a-real-key")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key."


def test_a_request_with_the_session_cookie_gets_the_full_stack(alice, token):
    browser = login_client(alice)
    response = browser.get("/api/v1/projects", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
    # A session that also sends a key is still refused where only a session may act.
    leave = browser.post(
        f"/api/v1/workspaces/{workspace_of(alice).pk}/leave", HTTP_X_PYCARET_KEY=token
    )
    assert leave.status_code == 403


def test_csrf_still_applies_to_a_cookie_request_that_also_sends_a_key():
    factory = RequestFactory()
    csrf = KeyRequestCsrfViewMiddleware(lambda request: HttpResponse())

    def view(request):
        return HttpResponse()

    keyed = factory.post("/api/v1/projects", HTTP_X_PYCARET_KEY="pck_x")
    assert is_key_request(keyed)
    assert csrf.process_view(keyed, view, (), {}) is None

    with_cookie = factory.post("/api/v1/projects", HTTP_X_PYCARET_KEY="pck_x")
    with_cookie.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    assert not is_key_request(with_cookie)
    assert csrf.process_view(with_cookie, view, (), {}).status_code == 403

    page = factory.post("/projects/", HTTP_X_PYCARET_KEY="pck_x")
    assert not is_key_request(page)  # only /api/v1/ is ever skipped
    assert csrf.process_view(page, view, (), {}).status_code == 403
