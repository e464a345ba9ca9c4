"""In a real browser: hostile LLM output stays inert, and a modal asks once, when it opens."""

from __future__ import annotations

import pytest

from copilots.tests.factories import (
    HOSTILE_REPLY,
    make_churn_experiment,
    make_failed_run,
    make_pipeline,
    make_succeeded_run,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _watch_for_script_execution(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_hostile_reply_renders_inert(page, live_server, sign_in, alice, llm_server):
    run = make_failed_run(make_churn_experiment(alice))
    llm_server.reply(HOSTILE_REPLY)
    sign_in(alice)
    alerts = _watch_for_script_execution(page)
    page.goto(f"{live_server.url}/runs/{run.pk}/")  # the run page itself
    title = page.title()
    assert llm_server.requests == []  # the card is opt-in: the page asked nothing
    page.get_by_role("button", name="Diagnose").click()
    card = page.locator(f"#copilot-failure-debugging-{run.pk}")
    card.get_by_role("button", name="Re-diagnose").wait_for()
    summary = card.get_by_test_id("reasoning-summary").inner_text()
    assert '<script>alert("xss")</script>' in summary  # shown as text
    assert "<img src=x onerror=alert(1)>" in summary
    assert page.locator("img[src='x']").count() == 0
    assert card.locator("script:not([src])").count() == 0
    assert card.locator("b").count() == 0
    assert page.evaluate("document.title") == title
    assert alerts == []
    assert len(llm_server.requests) == 1
    assert card.get_by_test_id("category").inner_text() == "CONFIG"


def test_review_modal_fires_when_it_opens(page, live_server, sign_in, alice, llm_server):
    experiment = make_churn_experiment(alice)
    leaderboard = [
        {"model_id": "dt", "Model": "Decision Tree Classifier", "Accuracy": 1.0},
        {"model_id": "lr", "Model": "Logistic Regression", "Accuracy": 0.8},
    ]
    pipeline = make_pipeline(
        make_succeeded_run(experiment, leaderboard=leaderboard, metrics={"Accuracy": 1.0})
    )
    llm_server.reply({"verdict": "APPROVE", "reasoning_summary": "Ship it <script>x()</script>"})
    sign_in(alice)
    alerts = _watch_for_script_execution(page)
    page.goto(f"{live_server.url}/pipelines/{pipeline.pk}/")  # the pipeline page's sidebar
    assert llm_server.requests == []
    page.get_by_role("button", name="✨ Review").click()
    dialog = page.locator(f"#copilot-deployment-review-{pipeline.pk}-dialog")
    verdict = dialog.get_by_test_id("verdict")
    verdict.wait_for()
    assert verdict.inner_text().startswith("DO NOT DEPLOY")
    assert "text-danger-500" in verdict.get_attribute("class")
    assert len(llm_server.requests) == 1
    # closing and reopening shows the answer again without asking again
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="✨ Review").click()
    assert dialog.get_by_test_id("verdict").is_visible()
    assert len(llm_server.requests) == 1
    assert alerts == []


def test_dataset_page_modals_and_apply(page, live_server, sign_in, alice, llm_server):
    from engine.models import Experiment

    dataset = make_churn_experiment(alice).dataset
    sign_in(alice)
    page.goto(f"{live_server.url}/datasets/{dataset.pk}/")
    assert llm_server.requests == []

    page.get_by_role("button", name="Analyze", exact=True).click()
    analysis = page.locator(f"#copilot-dataset-analysis-{dataset.pk}-dialog")
    analysis.get_by_test_id("reasoning-summary").wait_for()
    assert len(llm_server.requests) == 1
    analysis.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Design experiment").click()
    design = page.locator(f"#copilot-experiment-design-{dataset.pk}-dialog")
    settings_list = design.get_by_test_id("suggested-settings")
    settings_list.wait_for()
    assert len(llm_server.requests) == 2  # the loopback's default reply has no config...
    assert "Target\nchurn" in settings_list.inner_text()  # ...so: offline's
    raw = design.get_by_test_id("suggested-config")
    assert not raw.is_visible()  # the JSON sits behind its toggle
    design.get_by_text("Raw configuration (JSON)").click()
    assert '"target": "churn"' in raw.inner_text()
    design.get_by_role("link", name="Apply").click()
    form = page.locator("#experiment-form")
    page.wait_for_function(
        "document.querySelector('#experiment-form select[name=target]').value === 'churn'"
    )
    design.wait_for(state="hidden")  # the dialog closes to show the form
    assert form.locator("input[name=fold]").input_value() == "5"
    assert Experiment.objects.count() == 1  # nothing is created until the person submits
    form.get_by_role("button", name="Create experiment").click()
    page.wait_for_url(f"{live_server.url}/experiments/**")
    created = Experiment.objects.exclude(name="exp").get()
    assert created.target == "churn"
    assert sorted(created.setup_options["ignore_features"]) == ["country", "customer_id"]


def test_a_throttled_card_says_so_in_place(page, live_server, sign_in, alice, llm_server, settings):
    from playwright.sync_api import expect

    settings.COPILOT_THROTTLE_PER_MINUTE = 1
    run = make_failed_run(make_churn_experiment(alice))
    sign_in(alice)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    card = page.locator(f"#copilot-failure-debugging-{run.pk}")
    card.get_by_role("button", name="Diagnose").click()
    card.get_by_role("button", name="Re-diagnose").click()  # a 429, swapped into the card
    expect(card.get_by_role("alert")).to_contain_text("Too many copilot calls")
