"""A new user's whole journey in a real browser, with a real worker, from sign-up to a revoked key.

Each step saves a screenshot into the test's temp folder. A failure prints the page's HTML and the
browser console, so the step that broke can be read without re-running.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from engine.tests.factories import breast_cancer_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.filterwarnings("ignore"),
]

PASSWORD = "a-long journey-password-7"
RUN_TIMEOUT = 180_000


class Journey:
    """The browser page, the live server and a numbered screenshot per step."""

    def __init__(self, page, live_server, folder):
        self.page = page
        self.url = live_server.url
        self.folder = folder
        self.console: list[str] = []
        self.steps: list[str] = []
        self.main_pages: dict[str, str] = {}
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def go(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")

    def shot(self, name: str) -> None:
        self.steps.append(name)
        self.page.screenshot(path=self.folder / f"{len(self.steps):02d}-{name}.png", full_page=True)

    def keep(self, name: str) -> None:
        """Remember the current page as one of the main pages, for the phone-width pass."""
        self.main_pages[name] = self.page.url

    def report(self) -> str:
        return (
            f"\n--- steps done: {', '.join(self.steps)}\n--- url: {self.page.url}\n"
            f"--- console:\n" + "\n".join(self.console) + f"\n--- html:\n{self.page.content()}"
        )


@pytest.fixture
def journey(page, live_server, tmp_path, settings):
    settings.STUDIO_SIGNUP_OPEN = True
    return Journey(page, live_server, tmp_path)


def run_page_reaches(journey, status: str) -> None:
    from playwright.sync_api import expect

    expect(journey.page.locator("#run-status [data-status]")).to_have_text(
        status, timeout=RUN_TIMEOUT
    )


def test_a_new_user_goes_from_sign_up_to_a_revoked_key(journey, celery_worker, tmp_path):
    from playwright.sync_api import expect

    page = journey.page
    try:
        _journey(journey, page, expect, tmp_path)
    except Exception:
        print(journey.report())
        raise


def _journey(journey, page, expect, tmp_path):
    # Sign up.
    journey.go("/account/signup/")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{journey.url}/")
    journey.shot("signed-up")
    journey.keep("dashboard")

    # A project.
    page.get_by_label("Name").first.fill("Screening")
    page.get_by_role("button", name="Create project").click()
    page.locator("#projects").get_by_role("link", name="Screening").click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    journey.shot("project")
    journey.keep("project")

    # Upload, then the profile.
    csv = tmp_path / "breast_cancer.csv"
    breast_cancer_frame().to_csv(csv, index=False)
    page.locator("#dataset-upload input[type=file]").set_input_files(csv)
    page.locator("#dataset-upload").get_by_role("button", name="Upload").click()
    uploaded = page.locator("#dataset-upload").get_by_role("link", name="breast_cancer.csv")
    expect(uploaded).to_be_visible(timeout=60_000)
    uploaded.click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    expect(page.get_by_role("heading", name=re.compile("breast_cancer"))).to_be_visible()
    journey.shot("dataset")
    journey.keep("dataset")

    # Analyze: the dataset copilot names the target.
    page.locator("#analyze-slot").get_by_test_id("copilot-open").click()
    dialog = page.locator("#analyze-slot dialog")
    expect(dialog).to_contain_text("target", timeout=60_000)
    journey.shot("analyzed")
    dialog.get_by_role("button", name="Close").first.click()

    # An experiment, from the form on the dataset page, with the suggested target.
    form = page.locator("#experiment-form")
    form.get_by_label("Name").fill("Screening baseline")
    form.get_by_label("Target").select_option("target")
    form.get_by_role("button", name="Create experiment").click()
    page.wait_for_url(re.compile(r"/experiments/\d+/$"))
    experiment_url = page.url
    journey.shot("experiment")
    journey.keep("experiment")

    # A compare of two fast models, run by the worker.
    submit_run(page, expect, plan="compare", models=("lr", "dt"))
    journey.shot("compare-submitted")
    # A second run to compare against: one model.
    page.goto(experiment_url)
    submit_run(page, expect, plan="create", model="nb")

    # The runs table: both runs, every metric a column, checkboxes to compare.
    page.goto(experiment_url)
    table = page.locator("#runs-table")
    expect(table.locator("tbody tr")).to_have_count(2, timeout=RUN_TIMEOUT)
    expect(table.locator("thead")).to_contain_text("Accuracy")
    expect(table.locator("tbody")).not_to_contain_text(
        re.compile("Queued|Running"), timeout=RUN_TIMEOUT
    )
    page.reload()
    journey.shot("runs-table")
    for box in page.locator("#runs-table tbody input[type=checkbox]").all():
        box.check()
    page.get_by_role("button", name=re.compile("Compare selected")).click()
    page.wait_for_url(re.compile(r"/runs/compare/"))
    expect(page.locator("body")).to_contain_text("Accuracy")
    journey.shot("compare-page")
    journey.keep("compare")

    # Explain the compare run, then promote its best model.
    page.goto(experiment_url)
    page.locator("#runs-table tbody tr").last.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run_page_reaches(journey, "Succeeded")
    explain = page.locator("[data-copilot=run_explanation]")
    explain.get_by_test_id("copilot-action").click()
    expect(explain.get_by_test_id("reasoning-summary")).to_be_visible(timeout=60_000)
    expect(explain).to_contain_text(re.compile("Accuracy|AUC|F1"))
    journey.shot("explained")
    journey.keep("run")
    page.get_by_test_id("promote-toggle").click()
    page.get_by_role("button", name="Promote to pipeline").click()
    page.wait_for_url(re.compile(r"/pipelines/\d+/$"))
    expect(page.get_by_test_id("origin-run")).to_be_visible()
    journey.shot("promoted")
    journey.keep("pipeline")

    # Review, then deploy with the confirmation the review's warnings ask for.
    review = page.locator("[data-copilot=deployment_review]")
    review.get_by_test_id("copilot-open").click()
    expect(review.locator("dialog")).to_contain_text(
        re.compile("APPROVE|CONDITIONS|DO NOT DEPLOY"), timeout=60_000
    )
    journey.shot("reviewed")
    review.locator("dialog").get_by_role("button", name="Close").first.click()
    page.get_by_label("Slug (optional)").fill("screening-live")
    page.get_by_test_id("deploy-button").click()
    confirm_or_deployed = page.get_by_test_id("deploy-confirm").or_(
        page.get_by_test_id("deployment-status")
    )
    confirm_or_deployed.first.wait_for()
    if page.get_by_test_id("deploy-anyway").count():
        journey.shot("deploy-confirm")
        page.get_by_test_id("deploy-anyway").click()
    page.wait_for_url(f"{journey.url}/deployments/screening-live/")
    expect(page.get_by_test_id("deployment-status")).to_have_text("active")
    journey.shot("deployed")
    journey.keep("deployment")

    # Predict in the page, then read the copy-paste snippet.
    page.get_by_role("button", name="Predict").click()
    expect(page.get_by_test_id("prediction-label")).to_be_visible(timeout=60_000)
    journey.shot("predicted")
    page.locator("#api-snippets summary", has_text="Python").click()
    snippet = page.get_by_test_id("snippet-python")
    expect(snippet).to_be_visible()
    expect(snippet).to_contain_text("/api/v1/deployments/screening-live/predict")
    python_snippet = snippet.text_content()
    journey.shot("snippet")

    # A key, shown once.
    journey.go("/account/api-keys/")
    page.get_by_label("Name").fill("journey script")
    page.get_by_label(re.compile("predict", re.I)).check()
    page.get_by_role("button", name="Create key").click()
    plaintext = page.locator("#new-key-plaintext")
    expect(plaintext).to_be_visible()
    key = plaintext.inner_text().strip() or plaintext.input_value().strip()
    assert key.startswith("pck_")
    journey.shot("key-created")
    journey.keep("api-keys")
    journey.go("/account/api-keys/")
    assert key not in page.content()  # seen once

    # A prediction through the API with that key, from Python: the page's own snippet, run as is.
    answer = run_snippet(python_snippet, key)
    assert answer.returncode == 0, answer.stderr
    assert "'label':" in answer.stdout

    # Revoke (accepting the confirmation): the same script now gets a 401.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").first.click()
    expect(page.locator("#key-table")).to_contain_text(re.compile("revoked", re.I))
    journey.shot("revoked")
    again = run_snippet(python_snippet, key)
    assert again.returncode != 0 and "401" in again.stderr, again.stderr

    # The main pages again at a phone's width: none is wider than the viewport.
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in journey.main_pages.items():
        page.goto(url)
        journey.shot(f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the {name} page is {width} px wide at 390 px: {overflowing(page)}"


OVERFLOWING_JS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !e.closest('.table-wrap, pre, dialog'))
  .slice(-8)
  .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)"""


def overflowing(page) -> list[str]:
    """The innermost elements that reach past the viewport's right edge, to say what to fix."""
    return page.evaluate(OVERFLOWING_JS)


def run_snippet(code: str, key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYCARET_KEY": key}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def submit_run(page, expect, *, plan: str, models=(), model: str | None = None) -> None:
    form = page.locator("#new-run")
    form.get_by_label("Plan").select_option(plan)
    for model_id in models:
        form.get_by_label(re.compile(rf"\({model_id}\)$")).check()
    if model:
        form.get_by_label("Model", exact=True).select_option(model)
    folds = form.get_by_label("Folds")
    if folds.is_visible():
        folds.fill("2")
    form.get_by_role("button", name="Submit run").click()
    expect(page.locator("#new-run")).to_contain_text("submitted")
