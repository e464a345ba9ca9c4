"""Signup, login, logout and the workspace pages."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tests.factories import PASSWORD, workspace_of

pytestmark = pytest.mark.django_db


def test_signup_creates_a_personal_workspace_owned_by_the_user(client, settings):
    settings.STUDIO_SIGNUP_OPEN = True
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "dana",
            "email": "dana@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="dana")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    assert membership.workspace.name == "dana's workspace"
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert "dana&#x27;s workspace" in page.content.decode()


def test_signup_rejects_mismatched_passwords_and_creates_nothing(client, settings):
    settings.STUDIO_SIGNUP_OPEN = True
    response = client.post(
        reverse("accounts:signup"),
        {"username": "dana", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()
    assert not User.objects.filter(username="dana").exists()


def test_signup_can_be_closed(client, settings):
    settings.STUDIO_SIGNUP_OPEN = False
    assert client.get(reverse("accounts:signup")).status_code == 404
    assert "Sign up" not in client.get(reverse("accounts:login")).content.decode()


def test_login_and_logout(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    anonymous = client.get(reverse("dashboard"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))


def test_login_with_a_wrong_password_says_so(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_base_page_serves_htmx_from_static_and_puts_csrf_on_body(alice_client):
    html = alice_client.get(reverse("dashboard")).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in html
    assert "https://" not in html.split("<body")[0]
    assert 'hx-headers=\'{"x-csrftoken": "' in html
    assert '<main id="main"' in html and 'aria-label="Main"' in html


def test_workspace_switcher_lists_only_my_workspaces(alice_client, alice, bob):
    html = alice_client.get(reverse("dashboard")).content.decode()
    assert "alice&#x27;s workspace" in html
    assert "bob&#x27;s workspace" not in html


def test_switching_workspace(alice_client, alice, bob):
    from accounts.services import workspace_create

    team = workspace_create(name="Team", owner=alice)
    response = alice_client.post(reverse("accounts:workspace_switch"), {"workspace": team.pk})
    assert response.status_code == 302
    assert "<h1>Team</h1>" in alice_client.get(reverse("dashboard")).content.decode()


def test_bob_gets_404_on_alices_workspace_page_and_switch(bob_client, alice):
    workspace = workspace_of(alice)
    url = reverse("accounts:workspace_detail", args=[workspace.pk])
    assert bob_client.get(url).status_code == 404
    assert (
        bob_client.post(
            reverse("accounts:workspace_switch"), {"workspace": workspace.pk}
        ).status_code
        == 404
    )


def test_alice_sees_her_workspace_page(alice_client, alice):
    workspace = workspace_of(alice)
    response = alice_client.get(reverse("accounts:workspace_detail", args=[workspace.pk]))
    assert response.status_code == 200
    assert "alice@example.com" in response.content.decode()
