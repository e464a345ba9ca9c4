"""In a real browser: submit a compare from the experiment page and watch it reach the leaderboard."""

import re

import pytest

from engine.tests.factories import breast_cancer_frame, make_dataset, make_experiment, make_project
from pycaret_studio.tests.support import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.worker,
]


def test_submit_a_compare_and_watch_the_progress_bar_reach_the_leaderboard(
    live_server, page, celery_worker, alice
):
    from playwright.sync_api import expect

    dataset = make_dataset(make_project(alice), breast_cancer_frame(), name="breast_cancer.csv")
    experiment = make_experiment(dataset, target="target", setup={"session_id": 7})
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/experiments/{experiment.pk}/")

    form = page.locator("#new-run")
    form.get_by_label("Plan").select_option("compare")
    expect(form.get_by_label("Model", exact=True)).to_be_hidden()  # only compare's options show
    for label in ("Logistic Regression (lr)", "Decision Tree Classifier (dt)", "Naive Bayes (nb)"):
        form.get_by_label(label).check()
    form.get_by_label("Folds").fill("2")
    form.get_by_role("button", name="Submit run").click()

    expect(page.locator("#new-run")).to_contain_text("submitted")
    link = page.locator("#runs-list").get_by_role("link", name=re.compile(r"^Run #\d+ · compare$"))
    expect(link).to_have_count(1)  # the list refreshed itself on runSubmitted
    link.click()

    status = page.locator("#run-status [data-status]")
    expect(status).to_have_text(re.compile("Queued|Running|Succeeded"))
    first_seen = status.inner_text()
    progress = page.get_by_role("progressbar")
    expect(status).to_have_text("Succeeded", timeout=120_000)
    expect(progress).to_have_attribute("value", "100")
    if first_seen != "Succeeded":  # it got there by polling, without a reload
        expect(page.locator("#run-events li").first).to_contain_text("setup")

    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#leaderboard tr.highlight")).to_have_count(1)
    expect(page.locator("#holdout-metrics")).to_contain_text("Accuracy")
    expect(page.locator(".plot img").first).to_be_visible()

    # The leaderboard sorts in the browser: by model name, A to Z.
    page.locator("#leaderboard thead").get_by_role("button", name="Model").click()
    names = [n.strip() for n in rows.locator("th").all_inner_texts()]
    assert names == sorted(names)
