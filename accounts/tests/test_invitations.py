"""Invitations instead of forced membership: nobody joins a workspace without accepting, the
answer to "add" tells nothing about who exists, and a user's default workspace is their own."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Invitation, Membership, Role, User
from accounts.services import api_key_create, workspace_create
from accounts.tests.factories import PASSWORD, add_member, login_client, workspace_of

pytestmark = pytest.mark.django_db


def invite(client, workspace, role="member", **who):
    return client.post(
        f"/api/v1/workspaces/{workspace.pk}/members",
        {**who, "role": role},
        content_type="application/json",
    )


def is_member(workspace, user) -> bool:
    return Membership.objects.filter(workspace=workspace, user=user).exists()


def test_adding_someone_invites_them_and_they_see_nothing_until_they_accept(
    alice_client, alice, charlie
):
    team = workspace_of(alice)
    response = invite(alice_client, team, username="charlie")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert not is_member(team, charlie)
    client = login_client(charlie)
    assert client.get(f"/api/v1/workspaces/{team.pk}").status_code == 404
    assert team.pk not in [w["id"] for w in client.get("/api/v1/workspaces").json()["items"]]
    assert client.get(f"/api/v1/projects?workspace_id={team.pk}").status_code == 404
    event = AuditEvent.objects.get(action="invitation.created")
    assert (event.workspace, event.actor, event.metadata) == (
        team,
        alice,
        {"identifier": "charlie", "role": "member"},
    )


def comparable(response) -> tuple:
    body = response.json()
    return response.status_code, sorted(body), body["status"], body["role"], body["invited_by"]


def test_the_answer_is_the_same_whether_or_not_the_user_exists(alice_client, alice, charlie):
    team = workspace_of(alice)
    by_name = invite(alice_client, team, username="charlie")
    no_name = invite(alice_client, team, username="nobody-at-all")
    by_email = invite(alice_client, team, email="charlie@example.com")
    no_email = invite(alice_client, team, email="ghost@example.com")
    assert comparable(by_name) == comparable(no_name) == comparable(by_email)
    assert comparable(by_email) == comparable(no_email)
    # The page's notice reads the same too.
    page = reverse("accounts:member_add", args=[team.pk])
    known = alice_client.post(
        page, {"identifier": "charlie", "role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    unknown = alice_client.post(
        page, {"identifier": "zed", "role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert known.status_code == unknown.status_code == 200
    notice = "If that is someone here, they join once they accept it."
    assert notice in known.content.decode() and notice in unknown.content.decode()


def test_the_invitee_accepts_through_the_api(alice, charlie):
    team = workspace_of(alice)
    invite(login_client(alice), team, role="viewer", username="charlie")
    client = login_client(charlie)
    listed = client.get("/api/v1/invitations").json()["items"]
    assert [(i["workspace"]["name"], i["role"], i["invited_by"]) for i in listed] == [
        ("alice's workspace", "viewer", "alice")
    ]
    accepted = client.post(f"/api/v1/invitations/{listed[0]['id']}/accept")
    assert accepted.status_code == 200
    assert (accepted.json()["id"], accepted.json()["role"]) == (team.pk, "viewer")
    assert Membership.objects.get(workspace=team, user=charlie).role == Role.VIEWER
    assert client.get(f"/api/v1/workspaces/{team.pk}").status_code == 200
    assert client.get("/api/v1/invitations").json()["items"] == []
    again = client.post(f"/api/v1/invitations/{listed[0]['id']}/accept")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=charlie).count() == 1


def test_the_invitee_declines_through_the_api(alice, charlie):
    team = workspace_of(alice)
    invite(login_client(alice), team, username="charlie")
    client = login_client(charlie)
    invitation_id = client.get("/api/v1/invitations").json()["items"][0]["id"]
    assert client.post(f"/api/v1/invitations/{invitation_id}/decline").status_code == 204
    assert not is_member(team, charlie)
    assert Invitation.objects.get(pk=invitation_id).status == "declined"
    assert AuditEvent.objects.filter(action="invitation.declined", actor=charlie).exists()
    assert client.post(f"/api/v1/invitations/{invitation_id}/accept").status_code == 409


def test_someone_elses_invitation_is_a_404(alice, bob, charlie):
    invite(login_client(alice), workspace_of(alice), username="charlie")
    invitation = Invitation.objects.get(invitee=charlie)
    client = login_client(bob)
    assert client.get("/api/v1/invitations").json()["items"] == []
    assert client.post(f"/api/v1/invitations/{invitation.pk}/accept").status_code == 404
    assert client.post(f"/api/v1/invitations/{invitation.pk}/decline").status_code == 404
    assert not is_member(workspace_of(alice), bob)


def test_invitation_routes_need_a_session_not_a_key(alice, charlie, client):
    invite(login_client(alice), workspace_of(alice), username="charlie")
    invitation = Invitation.objects.get(invitee=charlie)
    _, token = api_key_create(user=charlie, name="k", scopes=["read", "write"])
    assert client.get("/api/v1/invitations", HTTP_X_PYCARET_KEY=token).status_code == 401
    accept = client.post(f"/api/v1/invitations/{invitation.pk}/accept", HTTP_X_PYCARET_KEY=token)
    assert accept.status_code == 401
    assert not is_member(workspace_of(alice), charlie)


def test_an_email_matches_only_when_exactly_one_user_has_it(alice):
    # Two accounts from before emails were unique.
    twins = [
        User.objects.create_user(username=f"twin{n}", email="Twin@Example.com", password=PASSWORD)
        for n in (1, 2)
    ]
    invite(login_client(alice), workspace_of(alice), email="twin@example.com")
    invitation = Invitation.objects.get(identifier="twin@example.com")
    assert invitation.invitee is None
    for twin in twins:
        assert login_client(twin).get("/api/v1/invitations").json()["items"] == []


def test_a_username_shaped_like_an_email_never_catches_anothers_invitation(alice):
    victim = User.objects.create_user(username="vic", email="vic@corp.example", password=PASSWORD)
    # An account from before signup refused such usernames.
    squatter = User.objects.create_user(username="vic@corp.example", password=PASSWORD)
    invite(login_client(alice), workspace_of(alice), email="vic@corp.example")
    assert Invitation.objects.get().invitee == victim
    assert login_client(squatter).get("/api/v1/invitations").json()["items"] == []


def test_a_username_matches_exactly(alice, charlie):
    invite(login_client(alice), workspace_of(alice), username="CHARLIE")
    assert Invitation.objects.get().invitee is None


def test_inviting_a_member_again_is_a_conflict(alice_client, alice, bob):
    team = workspace_of(alice)
    add_member(team, bob)
    response = invite(alice_client, team, username="bob")
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"


def test_a_new_invitation_to_the_same_name_replaces_the_old(alice_client, alice, charlie):
    team = workspace_of(alice)
    invite(alice_client, team, role="viewer", username="charlie")
    invite(alice_client, team, role="member", username="charlie")
    pending = login_client(charlie).get("/api/v1/invitations").json()["items"]
    assert [i["role"] for i in pending] == ["member"]


def test_an_invitation_dies_with_its_inviters_rights(alice, bob, charlie):
    team = workspace_of(alice)
    add_member(team, bob, Role.ADMIN)
    invite(login_client(bob), team, username="charlie")
    Membership.objects.filter(workspace=team, user=bob).update(role=Role.MEMBER)
    invitation = Invitation.objects.get(invitee=charlie)
    response = login_client(charlie).post(f"/api/v1/invitations/{invitation.pk}/accept")
    assert response.status_code == 409
    assert "no longer valid" in response.json()["detail"]
    assert not is_member(team, charlie)


# Signup: no username that looks like an email, no second account with an email.


def signup(client, username, email=""):
    return client.post(
        reverse("accounts:signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_signup_refuses_a_username_that_looks_like_an_email(client, settings, alice):
    settings.STUDIO_SIGNUP_OPEN = True
    response = signup(client, "alice@example.com")
    assert response.status_code == 200
    assert "cannot contain" in response.content.decode()
    assert not User.objects.filter(username="alice@example.com").exists()


def test_signup_refuses_an_email_already_in_use_whatever_its_case(client, settings, alice):
    settings.STUDIO_SIGNUP_OPEN = True
    response = signup(client, "mallory", email="ALICE@example.com")
    assert response.status_code == 200
    assert "already in use" in response.content.decode()
    assert not User.objects.filter(username="mallory").exists()
    assert signup(client, "mallory", email="mallory@example.com").status_code == 302


# The default workspace: the user's own, or the one they last chose.


def test_the_default_workspace_is_your_own_not_the_lowest_id(alice, bob):
    # alice signed up first, so her workspace has the lower id; bob joins it.
    team = workspace_of(alice)
    assert team.pk < workspace_of(bob).pk
    add_member(team, bob, Role.MEMBER)
    client = login_client(bob)
    assert "<h1>bob&#x27;s workspace</h1>" in client.get(reverse("dashboard")).content.decode()
    created = client.post("/api/v1/projects", {"name": "mine"}, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["workspace_id"] == workspace_of(bob).pk


def test_the_workspace_you_last_chose_stays_your_default(alice, bob):
    team = workspace_of(alice)
    add_member(team, bob, Role.MEMBER)
    login_client(bob).post(reverse("accounts:workspace_switch"), {"workspace": team.pk})
    later = login_client(bob)  # another browser, another session
    assert "<h1>alice&#x27;s workspace</h1>" in later.get(reverse("dashboard")).content.decode()
    created = later.post("/api/v1/projects", {"name": "team's"}, content_type="application/json")
    assert created.json()["workspace_id"] == team.pk
    # Once bob leaves, his own is the default again.
    later.post(f"/api/v1/workspaces/{team.pk}/leave")
    assert "<h1>bob&#x27;s workspace</h1>" in later.get(reverse("dashboard")).content.decode()


def test_a_users_own_workspace_wins_over_one_joined_earlier(bob):
    """Even when bob joined a workspace before he owned one of his own."""
    workspace_create(name="Lab", owner=bob)
    Membership.objects.filter(workspace=workspace_of(bob), user=bob).update(role=Role.MEMBER)
    assert "<h1>Lab</h1>" in login_client(bob).get(reverse("dashboard")).content.decode()


# The dashboard banner and the members page.


def test_the_dashboard_banner_accepts_full_page_and_fragment(alice, charlie):
    team = workspace_of(alice)
    invite(login_client(alice), team, username="charlie")
    client = login_client(charlie)
    page = client.get(reverse("dashboard")).content.decode()
    invitation = Invitation.objects.get(invitee=charlie)
    assert 'id="invitations"' in page and "Invitation to alice&#x27;s workspace" in page
    assert reverse("accounts:invitation_accept", args=[invitation.pk]) in page
    fragment = client.post(
        reverse("accounts:invitation_accept", args=[invitation.pk]), HTTP_HX_REQUEST="true"
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert 'id="invitations"' in html and "<html" not in html
    assert "You joined alice&#x27;s workspace as member" in html
    # The navigation's switcher is swapped out of band, now listing the joined workspace.
    assert 'id="workspace-switcher-slot" hx-swap-oob="true"' in html
    assert f'<option value="{team.pk}"' in html
    assert is_member(team, charlie)


def test_the_dashboard_banner_declines_without_javascript(alice, charlie):
    invite(login_client(alice), workspace_of(alice), username="charlie")
    client = login_client(charlie)
    invitation = Invitation.objects.get(invitee=charlie)
    response = client.post(reverse("accounts:invitation_decline", args=[invitation.pk]))
    assert response.status_code == 302
    page = client.get(reverse("dashboard")).content.decode()
    assert "You declined the invitation to alice&#x27;s workspace." in page
    assert "Invitation to alice" not in page
    assert not is_member(workspace_of(alice), charlie)


def test_the_members_page_lists_pending_invitations_and_cancels_them(alice_client, alice, charlie):
    team = workspace_of(alice)
    invite(alice_client, team, role="viewer", username="charlie")
    invitation = Invitation.objects.get(invitee=charlie)
    page = alice_client.get(reverse("accounts:workspace_detail", args=[team.pk])).content.decode()
    assert "Pending invitations" in page and ">charlie</td>" in page
    cancel = reverse("accounts:invitation_cancel", args=[team.pk, invitation.pk])
    fragment = alice_client.post(cancel, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and 'id="members"' in html and "<html" not in html
    assert "No pending invitations." in html
    assert Invitation.objects.get(pk=invitation.pk).status == "cancelled"
    assert AuditEvent.objects.filter(action="invitation.cancelled").exists()
    refused = login_client(charlie).post(f"/api/v1/invitations/{invitation.pk}/accept")
    assert refused.status_code == 409


def test_an_admin_cannot_cancel_an_owners_invitation(alice, bob, charlie):
    team = workspace_of(alice)
    add_member(team, bob, Role.ADMIN)
    invite(login_client(alice), team, role="owner", username="charlie")
    invitation = Invitation.objects.get(invitee=charlie)
    response = login_client(bob).delete(f"/api/v1/workspaces/{team.pk}/invitations/{invitation.pk}")
    assert response.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_pending_invitations_in_the_api_are_for_managers_only(alice_client, alice, bob):
    team = workspace_of(alice)
    invite(alice_client, team, username="nobody")
    listed = alice_client.get(f"/api/v1/workspaces/{team.pk}/invitations").json()["items"]
    assert [i["identifier"] for i in listed] == ["nobody"]
    add_member(team, bob, Role.MEMBER)
    assert login_client(bob).get(f"/api/v1/workspaces/{team.pk}/invitations").status_code == 403
