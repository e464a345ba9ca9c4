"""Copilot test fixtures: the loopback LLM server, offline mode, a fresh throttle, and a
signed-in browser."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client

from copilots.tests.llm_server import LoopbackServer


@pytest.fixture(scope="session")
def _loopback_server():
    with LoopbackServer() as state:
        yield state


@pytest.fixture(autouse=True)
def _copilot_defaults(settings, monkeypatch):
    """Offline unless a test asks for the loopback LLM; a throttle window of the test's own."""
    settings.COPILOT_MODEL = ""
    settings.COPILOT_API_BASE = ""
    settings.COPILOT_FALLBACK_MODELS = []
    monkeypatch.setattr("copilots.services.THROTTLE_NAMESPACE", f"copilot-test-{uuid.uuid4()}")


@pytest.fixture
def llm_server(_loopback_server, settings, monkeypatch):
    """litellm pointed at the scripted server; `llm_server.requests` records what it got."""
    _loopback_server.reset()
    settings.COPILOT_MODEL = "openai/test-model"
    settings.COPILOT_API_BASE = _loopback_server.api_base
    settings.COPILOT_TIMEOUT_S = 5
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    yield _loopback_server
    _loopback_server.reset()


@pytest.fixture
def sign_in(page, live_server):
    """`sign_in(user)` gives the browser page a session of `user`'s (the login form itself is
    tested in accounts)."""

    def sign_in(user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in
