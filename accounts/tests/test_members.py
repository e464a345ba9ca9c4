"""Workspace members and roles, on the page and the API: who may change whom, leaving, and the
protected last owner."""

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Role
from accounts.tests.factories import add_member, login_client, make_persona, workspace_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(alice, bob, charlie):
    """alice owns the workspace; bob is a viewer in it; charlie is not a member."""
    workspace = workspace_of(alice)
    add_member(workspace, bob, Role.VIEWER)
    return workspace


@pytest.fixture
def staffed(team, bob, charlie):
    """alice owns the team; bob is an admin; charlie a member; dana a fellow admin."""
    Membership.objects.filter(workspace=team, user=bob).update(role=Role.ADMIN)
    add_member(team, charlie, Role.MEMBER)
    add_member(team, make_persona("dana"), Role.ADMIN)
    return team


def member_url(workspace, user) -> str:
    membership = Membership.objects.get(workspace=workspace, user=user)
    return f"/api/v1/workspaces/{workspace.pk}/members/{membership.pk}"


def role_of(workspace, user) -> str | None:
    return (
        Membership.objects.filter(workspace=workspace, user=user)
        .values_list("role", flat=True)
        .first()
    )


def patch_role(client, url, role):
    return client.patch(url, {"role": role}, content_type="application/json")


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
    assert "Invite someone" not in page and "Pending invitations" not in page
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
    assert client.post(f"/api/v1/workspaces/{team.pk}/leave").status_code == 404


def test_change_role_and_remove_are_audited(alice_client, team, bob):
    url = member_url(team, bob)
    changed = patch_role(alice_client, url, "admin")
    assert (changed.status_code, changed.json()["role"]) == (200, "admin")
    assert role_of(team, bob) == Role.ADMIN
    assert alice_client.delete(url).status_code == 204
    assert role_of(team, bob) is None
    actions = list(AuditEvent.objects.filter(workspace=team).values_list("action", flat=True))
    assert "member.changed" in actions and "member.removed" in actions


# Finding 1: an admin can take a workspace from its owner.


def test_an_admin_cannot_make_themselves_owner(staffed, alice, bob):
    response = patch_role(login_client(bob), member_url(staffed, bob), "owner")
    assert response.status_code == 403
    assert "own role" in response.json()["detail"]
    assert role_of(staffed, bob) == Role.ADMIN


def test_an_admin_cannot_remove_or_demote_the_owner(staffed, alice, bob):
    client = login_client(bob)
    url = member_url(staffed, alice)
    demote = patch_role(client, url, "member")
    assert demote.status_code == 403
    assert "Only owners" in demote.json()["detail"]
    removed = client.delete(url)
    assert removed.status_code == 403
    assert role_of(staffed, alice) == Role.OWNER


def test_an_admin_cannot_grant_owner_or_admin(staffed, bob, charlie):
    client = login_client(bob)
    for role in ("owner", "admin"):
        response = patch_role(client, member_url(staffed, charlie), role)
        assert response.status_code == 403, role
        invited = client.post(
            f"/api/v1/workspaces/{staffed.pk}/members",
            {"username": "zed", "role": role},
            content_type="application/json",
        )
        assert invited.status_code == 403, role
    assert role_of(staffed, charlie) == Role.MEMBER
    assert not staffed.invitations.filter(status="pending").exists()


def test_an_admin_cannot_touch_a_fellow_admin(staffed, bob):
    dana = Membership.objects.get(workspace=staffed, user__username="dana").user
    client = login_client(bob)
    assert patch_role(client, member_url(staffed, dana), "viewer").status_code == 403
    assert client.delete(member_url(staffed, dana)).status_code == 403
    assert role_of(staffed, dana) == Role.ADMIN


def test_an_admin_manages_members_and_viewers(staffed, bob, charlie):
    client = login_client(bob)
    assert patch_role(client, member_url(staffed, charlie), "viewer").status_code == 200
    assert role_of(staffed, charlie) == Role.VIEWER
    assert patch_role(client, member_url(staffed, charlie), "member").status_code == 200
    assert client.delete(member_url(staffed, charlie)).status_code == 204
    assert role_of(staffed, charlie) is None


def test_an_owner_grants_owner_and_demotes_another_owner(staffed, alice_client, bob):
    assert patch_role(alice_client, member_url(staffed, bob), "owner").status_code == 200
    assert role_of(staffed, bob) == Role.OWNER
    assert patch_role(alice_client, member_url(staffed, bob), "member").status_code == 200
    assert role_of(staffed, bob) == Role.MEMBER


def test_nobody_changes_their_own_role_not_even_an_owner(staffed, alice, alice_client, bob):
    Membership.objects.filter(workspace=staffed, user=bob).update(role=Role.OWNER)
    response = patch_role(alice_client, member_url(staffed, alice), "member")
    assert response.status_code == 403
    assert role_of(staffed, alice) == Role.OWNER
    # Another owner may step alice down.
    assert patch_role(login_client(bob), member_url(staffed, alice), "member").status_code == 200
    assert role_of(staffed, alice) == Role.MEMBER


def test_the_role_rules_hold_on_the_page_too(staffed, alice, bob):
    client = login_client(bob)
    owner = Membership.objects.get(workspace=staffed, user=alice)
    response = client.post(
        reverse("accounts:member_role", args=[staffed.pk, owner.pk]),
        {"role": "member"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert "Only owners" in response.content.decode()
    removed = client.post(
        reverse("accounts:member_remove", args=[staffed.pk, owner.pk]), HTTP_HX_REQUEST="true"
    )
    assert removed.status_code == 403
    mine = Membership.objects.get(workspace=staffed, user=bob)
    promoted = client.post(
        reverse("accounts:member_role", args=[staffed.pk, mine.pk]), {"role": "owner"}
    )
    assert promoted.status_code == 403
    assert role_of(staffed, alice) == Role.OWNER and role_of(staffed, bob) == Role.ADMIN


def test_an_admin_sees_controls_only_for_whom_they_may_manage(staffed, alice, bob, charlie):
    html = login_client(bob).get(reverse("accounts:workspace_detail", args=[staffed.pk]))
    html = html.content.decode()
    selects = set(re.findall(r'<select id="role-(\d+)"', html))
    charlie_row = Membership.objects.get(workspace=staffed, user=charlie).pk
    assert selects == {str(charlie_row)}
    options = re.search(rf'<select id="role-{charlie_row}"[^>]*>(.*?)</select>', html, re.S)
    assert re.findall(r'<option value="(\w+)"', options.group(1)) == ["member", "viewer"]


# The last owner; leaving.


def test_the_last_owner_cannot_be_removed_or_leave(alice_client, team, alice):
    assert alice_client.delete(member_url(team, alice)).status_code == 409
    response = alice_client.post(f"/api/v1/workspaces/{team.pk}/leave")
    assert response.status_code == 409
    assert "last owner" in response.json()["detail"]
    assert role_of(team, alice) == Role.OWNER


def test_owners_may_leave_until_one_is_left(team, alice, bob):
    Membership.objects.filter(workspace=team, user=bob).update(role=Role.OWNER)
    assert login_client(bob).post(f"/api/v1/workspaces/{team.pk}/leave").status_code == 204
    assert login_client(alice).post(f"/api/v1/workspaces/{team.pk}/leave").status_code == 409


def test_a_member_leaves_and_sees_nothing_after(team, bob):
    client = login_client(bob)
    response = client.post(f"/api/v1/workspaces/{team.pk}/leave")
    assert response.status_code == 204
    assert role_of(team, bob) is None
    assert client.get(f"/api/v1/workspaces/{team.pk}").status_code == 404
    event = AuditEvent.objects.get(action="member.left")
    assert (event.workspace, event.actor, event.metadata["role"]) == (team, bob, "viewer")


def test_deleting_your_own_membership_is_leaving(team, bob):
    client = login_client(bob)
    assert client.delete(member_url(team, bob)).status_code == 204
    assert role_of(team, bob) is None
    assert AuditEvent.objects.filter(action="member.left").exists()


def test_leaving_needs_a_session_not_a_key(team, bob, client):
    from accounts.services import api_key_create

    _, token = api_key_create(user=bob, name="k", scopes=["read", "write"])
    response = client.post(f"/api/v1/workspaces/{team.pk}/leave", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 401
    # Nor through the members route, which does take keys.
    deleted = client.delete(member_url(team, bob), HTTP_X_PYCARET_KEY=token)
    assert deleted.status_code == 403
    assert role_of(team, bob) == Role.VIEWER


def test_leave_from_the_page(team, bob):
    client = login_client(bob)
    page = client.get(reverse("accounts:workspace_detail", args=[team.pk])).content.decode()
    assert 'action="{}"'.format(reverse("accounts:workspace_leave", args=[team.pk])) in page
    fragment = client.post(
        reverse("accounts:workspace_leave", args=[team.pk]), HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert fragment["HX-Redirect"] == reverse("dashboard")
    assert role_of(team, bob) is None
    assert "You left" in client.get(reverse("dashboard")).content.decode()


def test_the_last_owner_cannot_leave_from_the_page(alice_client, team):
    response = alice_client.post(
        reverse("accounts:workspace_leave", args=[team.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert 'id="members"' in html and "<html" not in html and "last owner" in html
    full = alice_client.post(reverse("accounts:workspace_leave", args=[team.pk]))
    assert full.status_code == 409 and "<html" in full.content.decode()


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
