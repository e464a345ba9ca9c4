"""The API root: workspaces, session auth with CSRF, JSON errors."""

import pytest
from django.test import Client

from accounts.tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def test_workspaces_lists_mine_with_role(alice_client, alice, bob):
    response = alice_client.get("/api/v1/workspaces")
    assert response.status_code == 200
    assert response.json()["items"] == [
        {
            "id": workspace_of(alice).pk,
            "name": "alice's workspace",
            "slug": "alices-workspace",
            "role": "owner",
        }
    ]
    assert response.json()["count"] == 1 and response.json()["next"] is None


def test_bob_gets_404_on_alices_workspace(bob_client, alice):
    response = bob_client.get(f"/api/v1/workspaces/{workspace_of(alice).pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_gets_401_as_json(client):
    response = client.get("/api/v1/workspaces")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "code": "unauthorized"}


def test_openapi_docs_use_local_static_files(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/" in html
    assert "cdn." not in html
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_unknown_route_is_404(alice_client):
    assert alice_client.get("/api/v1/nothing-here").status_code == 404


def test_anonymous_client_is_not_logged_in():
    assert Client().get("/api/v1/workspaces").status_code == 401
