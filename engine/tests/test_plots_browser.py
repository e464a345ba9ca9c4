"""A real browser: a plot thumbnail opens full size in the lightbox, and a revoked key's
message appears without a reload."""

import pytest

from accounts.services import api_key_create
from engine.tests.factories import make_succeeded_run
from pycaret_studio.tests.support import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore"),
]


def test_a_plot_opens_full_size_in_the_lightbox_and_closes(page, live_server, alice):
    run = make_succeeded_run(alice, "labels")
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    alt = f"Confusion matrix for run #{run.pk} ({run.model_name})"
    page.get_by_alt_text(alt).click()
    dialog = page.locator("dialog.lightbox")
    dialog.wait_for()
    image = dialog.locator("img")
    assert image.get_attribute("alt") == alt
    assert dialog.locator("figcaption").inner_text() == alt
    page.wait_for_function("() => document.querySelector('dialog.lightbox img').naturalWidth > 500")
    assert page.url == f"{live_server.url}/runs/{run.pk}/"  # not the bare PNG
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_revoking_a_key_shows_its_message_at_once(page, live_server, alice):
    api_key_create(user=alice, name="laptop")
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/account/api-keys/")
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Revoke").first.click()
    page.locator("#messages").get_by_text("Revoked laptop").wait_for()
