"""A real browser logs in and lands on the dashboard."""

import pytest

from pycaret_studio.tests.support import browser_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_login_then_dashboard(page, live_server, alice):
    browser_login(page, live_server, alice)
    assert page.get_by_role("heading", level=1).inner_text() == "alice's workspace"
    assert page.get_by_label("Workspace").input_value()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/account/login/")


def test_choosing_a_workspace_switches_to_it(page, live_server, alice):
    from accounts.services import workspace_create

    workspace_create(name="Lab", owner=alice)
    browser_login(page, live_server, alice)
    page.get_by_label("Workspace").select_option(label="Lab")  # no button: it submits itself
    page.get_by_role("heading", level=1, name="Lab").wait_for()
    assert "Switched to Lab." in page.content()


def test_create_an_api_key_see_it_once_dismiss_it(page, live_server, alice):
    browser_login(page, live_server, alice)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    panel = page.locator("#one-time-panel")
    panel.wait_for()
    token = page.locator("#new-key-plaintext").inner_text().strip()
    assert token.startswith("pck_")
    assert "will not be shown again" in panel.inner_text()
    page.get_by_role("button", name="I've saved it").click()
    assert page.locator("#one-time-panel").count() == 0
    page.reload()
    html = page.content()
    assert token not in html
    assert token[:12] in html


def test_accept_an_invitation_from_the_banner_then_open_the_workspace(
    page, live_server, alice, bob
):
    from accounts.services import invitation_create
    from accounts.tests.factories import workspace_of

    invitation_create(workspace=workspace_of(alice), identifier="bob", role="member", by=alice)
    browser_login(page, live_server, bob)
    assert page.get_by_role("heading", level=1).inner_text() == "bob's workspace"
    banner = page.locator("#invitations")
    assert "Invitation to alice's workspace" in banner.inner_text()
    banner.get_by_role("button", name="Accept").click()
    page.get_by_text("You joined alice's workspace as member").wait_for()
    # The switcher was refreshed in place: the joined workspace is there to choose.
    page.get_by_label("Workspace").select_option(label="alice's workspace")
    page.get_by_role("heading", level=1, name="alice's workspace").wait_for()


def test_leave_a_workspace_from_the_members_page(page, live_server, alice, bob):
    from accounts.models import Role
    from accounts.tests.factories import add_member, workspace_of

    team = workspace_of(alice)
    add_member(team, bob, Role.ADMIN)
    browser_login(page, live_server, bob)
    page.goto(f"{live_server.url}/account/workspaces/{team.pk}/")
    members = page.locator("#members")
    # alice is an owner: an admin has no control over her row.
    assert members.get_by_role("button", name="Remove").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    members.get_by_role("button", name="Leave").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "You left alice's workspace." in page.content()
    assert page.get_by_role("heading", level=1).inner_text() == "bob's workspace"
