"""Workspace members and roles, on the page and the API; the last owner is protected."""

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Role
from accounts.services import member_add
from accounts.tests.factories import login_client, workspace_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(alice, bob, charlie):
    """alice owns the workspace; bob is a viewer in it; charlie is not a member."""
    workspace = workspace_of(alice)
    member_add(workspace=workspace, identifier="bob", role=Role.VIEWER, by=alice)
    return workspace


def test_admin_adds_a_member_by_email_and_it_is_audited(alice_client, team, charlie):
    response = alice_client.post(
        f"/api/v1/workspaces/{team.pk}/members",
        {"email": "charlie@example.com", "role": "member"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["username"] == "charlie"
    assert Membership.objects.get(workspace=team, user=charlie).role == "member"
    event = AuditEvent.objects.filter(action="member.added").latest("id")
    assert event.metadata == {"user": "charlie", "role": "member"}
    assert event.workspace == team


def test_adding_an_unknown_user_is_a_clear_422(alice_client, team):
    response = alice_client.post(
        f"/api/v1/workspaces/{team.pk}/members",
        {"username": "zed"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "zed" in response.json()["detail"]


def test_a_viewer_can_list_but_not_manage_members(team, bob, charlie):
    client = login_client(bob)
    assert client.get(f"/api/v1/workspaces/{team.pk}/members").status_code == 200
    response = client.post(
        f"/api/v1/workspaces/{team.pk}/members",
        {"username": "charlie"},
        content_type="application/json",
    )
    assert response.status_code == 403
    page = client.get(reverse("accounts:workspace_detail", args=[team.pk])).content.decode()
    assert "Add a member" not in page
    assert (
        client.post(
            reverse("accounts:member_add", args=[team.pk]),
            {"identifier": "charlie", "role": "member"},
        ).status_code
        == 403
    )


def test_a_non_member_gets_404(team, charlie):
    client = login_client(charlie)
    assert client.get(f"/api/v1/workspaces/{team.pk}/members").status_code == 404
    assert client.get(reverse("accounts:workspace_detail", args=[team.pk])).status_code == 404


def test_change_role_and_remove_are_audited(alice_client, team, bob):
    membership = Membership.objects.get(workspace=team, user=bob)
    url = f"/api/v1/workspaces/{team.pk}/members/{membership.pk}"
    changed = alice_client.patch(url, {"role": "admin"}, content_type="application/json")
    assert (changed.status_code, changed.json()["role"]) == (200, "admin")
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    assert alice_client.delete(url).status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = list(AuditEvent.objects.filter(workspace=team).values_list("action", flat=True))
    assert "member.changed" in actions and "member.removed" in actions


def test_the_last_owner_cannot_be_demoted_or_removed(alice_client, team, alice):
    owner = Membership.objects.get(workspace=team, user=alice)
    url = f"/api/v1/workspaces/{team.pk}/members/{owner.pk}"
    demote = alice_client.patch(url, {"role": "admin"}, content_type="application/json")
    assert demote.status_code == 409
    assert "last owner" in demote.json()["detail"]
    assert alice_client.delete(url).status_code == 409
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_an_owner_can_step_down_once_another_owner_exists(alice_client, team, alice, bob):
    Membership.objects.filter(workspace=team, user=bob).update(role=Role.OWNER)
    owner = Membership.objects.get(workspace=team, user=alice)
    response = alice_client.patch(
        f"/api/v1/workspaces/{team.pk}/members/{owner.pk}",
        {"role": "member"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["username"], response.json()["role"]) == ("alice", "member")
    assert Membership.objects.get(pk=owner.pk).role == Role.MEMBER
    # alice is a member now: she may no longer manage members.
    listed = {
        m["username"]: m["role"]
        for m in alice_client.get(f"/api/v1/workspaces/{team.pk}/members").json()
    }
    assert listed == {"alice": "member", "bob": "owner"}
    refused = alice_client.patch(
        f"/api/v1/workspaces/{team.pk}/members/{owner.pk}",
        {"role": "owner"},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_members_page_full_and_fragment(alice_client, team, bob):
    full = alice_client.get(reverse("accounts:workspace_detail", args=[team.pk]))
    assert "<html" in full.content.decode() and 'id="members"' in full.content.decode()
    membership = Membership.objects.get(workspace=team, user=bob)
    fragment = alice_client.post(
        reverse("accounts:member_role", args=[team.pk, membership.pk]),
        {"role": "member"},
        HTTP_HX_REQUEST="true",
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200 and 'id="members"' in html and "<html" not in html
    assert Membership.objects.get(pk=membership.pk).role == "member"
    # The swapped-in table shows bob's new role selected.
    select = re.search(rf'<select id="role-{membership.pk}"[^>]*>(.*?)</select>', html, re.S)
    assert re.findall(r'<option value="(\w+)" selected>', select.group(1)) == ["member"]


def test_last_owner_protection_on_the_page(alice_client, team, alice):
    owner = Membership.objects.get(workspace=team, user=alice)
    response = alice_client.post(
        reverse("accounts:member_remove", args=[team.pk, owner.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "last owner" in response.content.decode()
