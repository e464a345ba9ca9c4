"""A real browser logs in and lands on the dashboard."""

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_login_then_dashboard(page, live_server, alice):
    browser_login(page, live_server, alice)
    assert page.get_by_role("heading", level=1).inner_text() == "alice's workspace"
    assert page.get_by_label("Workspace").input_value()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/account/login/")
