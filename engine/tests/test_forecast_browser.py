"""In a real browser: design a time-series experiment, submit a compare, and see the forecast."""

import re

import pytest

from engine.tests.factories import make_dataset, make_project, monthly_series_frame
from pycaret_studio.tests.support import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.worker,
]


def test_design_a_forecast_submit_a_compare_and_see_the_forecast_plot(
    live_server, page, celery_worker, alice
):
    from playwright.sync_api import expect

    dataset = make_dataset(make_project(alice), monthly_series_frame(), name="passengers.csv")
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/datasets/{dataset.pk}/")

    form = page.locator("#experiment-form")
    form.get_by_label("Name").fill("Passengers forecast")
    form.get_by_label("Task").select_option("time_series")
    # the fields of forecasting show, those of the other tasks hide
    expect(form.get_by_label("Date column")).to_be_visible()
    form.get_by_text("Setup options", exact=True).click()
    expect(form.get_by_label("Normalize", exact=True)).to_be_hidden()
    expect(form.get_by_label("Name")).to_be_visible()
    form.get_by_label("Target column").select_option("passengers")
    form.get_by_label("Date column").select_option("month")
    form.get_by_label("Forecast horizon (fh)").fill("12")
    form.get_by_label("Fold", exact=True).fill("2")
    form.get_by_role("button", name="Create experiment").click()
    expect(page.locator("h1")).to_have_text("Passengers forecast")

    run_form = page.locator("#new-run")
    run_form.get_by_label("Plan").select_option("compare")
    for label in ("Naive Forecaster (naive)", "Seasonal Naive Forecaster (snaive)"):
        run_form.get_by_label(label).check()
    run_form.get_by_role("button", name="Submit run").click()
    expect(run_form).to_contain_text("submitted")
    page.locator("#runs-list").get_by_role("link", name=re.compile(r"^Run #\d+ · compare$")).click()

    expect(page.locator("#run-status [data-status]")).to_have_text("Succeeded", timeout=180_000)
    expect(page.locator("#leaderboard tbody tr")).to_have_count(2)
    expect(page.locator("#forecast-table")).to_contain_text("1961-01")
    plot = page.locator(".plot img[alt^='Forecast for run #']")
    plot.scroll_into_view_if_needed()  # a lazy image loads once it is near the viewport
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    expect(plot).to_be_visible()
