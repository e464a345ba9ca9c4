"""Limits on abuse from outside: login throttling (django-axes), signup closed by default in
production, and the one client-IP rule behind proxies."""

import runpy
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.client_ip import client_ip
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "pycaret_studio" / "settings.py"


def log_in(client, password, ip="198.51.100.7", username="alice"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_repeated_failed_logins_are_locked_out_with_a_clear_message(client, alice, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert log_in(client, "wrong").status_code == 200
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Locked out: even the right password is refused now, from this address.
    refused = log_in(client, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lockout is for this user from this address: nobody can lock alice out from elsewhere.
    assert log_in(client, PASSWORD, ip="203.0.113.9").status_code == 302


def test_a_successful_login_resets_the_count(client, alice, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(limit - 1):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, PASSWORD).status_code == 302


def test_axes_takes_the_client_ip_from_the_same_function(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "accounts.client_ip.client_ip"


# Signup: open in development only, unless asked for.


def settings_with(monkeypatch, **env) -> dict:
    for name in ("DEBUG", "STUDIO_SIGNUP_OPEN", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "test-only-" + "x" * 40)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.mark.parametrize(
    "env, is_open",
    [
        # Production: debug off, serving named hosts.
        ({"DEBUG": "false", "ALLOWED_HOSTS": "studio.example.com"}, False),
        (
            {"DEBUG": "false", "ALLOWED_HOSTS": "studio.example.com", "STUDIO_SIGNUP_OPEN": "1"},
            True,
        ),
        # Development, and a local install (no ALLOWED_HOSTS) such as `make run`.
        ({"DEBUG": "true"}, True),
        ({"DEBUG": "true", "STUDIO_SIGNUP_OPEN": "false"}, False),
        ({}, True),
    ],
)
def test_signup_is_closed_in_production_unless_opened(monkeypatch, env, is_open):
    assert settings_with(monkeypatch, **env)["STUDIO_SIGNUP_OPEN"] is is_open


def test_closed_signup_refuses_the_form(client, settings):
    settings.STUDIO_SIGNUP_OPEN = False
    response = client.post(
        reverse("accounts:signup"),
        {"username": "eve", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 404


# The client IP, for the audit log, the key throttle and axes alike.


def request_from(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.STUDIO_TRUSTED_PROXIES = 0
    assert client_ip(request_from("10.0.0.1", "1.2.3.4")) == "10.0.0.1"


def test_with_n_trusted_proxies_the_client_is_the_nth_from_the_right(settings):
    settings.STUDIO_TRUSTED_PROXIES = 1
    assert client_ip(request_from("10.0.0.1", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
    settings.STUDIO_TRUSTED_PROXIES = 2
    assert client_ip(request_from("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"


def test_a_short_or_garbled_header_falls_back_to_the_socket(settings):
    settings.STUDIO_TRUSTED_PROXIES = 2
    assert client_ip(request_from("10.0.0.1", "203.0.113.5")) == "10.0.0.1"
    settings.STUDIO_TRUSTED_PROXIES = 1
    assert client_ip(request_from("10.0.0.1", "not-an-ip")) == "10.0.0.1"
    assert client_ip(request_from("10.0.0.1", "")) == "10.0.0.1"
