"""In a real browser: archive a run from its page, then delete it through the confirmation."""

import pytest

from engine.models import Run
from engine.tests.factories import make_dataset, make_experiment, make_project
from pycaret_studio.tests.support import browser_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_archive_then_delete_a_run_from_its_page(live_server, page, alice):
    import pandas as pd
    from playwright.sync_api import expect

    frame = pd.DataFrame({"x": [float(i) for i in range(20)], "y": ["a", "b"] * 10})
    dataset = make_dataset(make_project(alice, "Browser tidy"), frame, name="tidy.csv")
    experiment = make_experiment(dataset, target="y", name="Tidy")
    run = Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status="failed")
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/runs/{run.pk}/")

    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("archived-banner")).to_be_visible()
    run.refresh_from_db()
    assert run.archived_at is not None

    page.get_by_test_id("delete-link").click()
    expect(page.locator("#delete-confirm")).to_contain_text("This can't be undone")
    expect(page.locator("#delete-confirm")).not_to_contain_text("It takes with it")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete Run {run.pk}").click()
    expect(page).to_have_url(f"{live_server.url}/experiments/{experiment.pk}/")
    expect(page.locator("body")).to_contain_text(f"Run {run.pk} deleted.")
    assert not Run.objects.filter(pk=run.pk).exists()
