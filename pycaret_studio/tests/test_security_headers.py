"""Security headers: a Content-Security-Policy with no inline script or style on every page, and
the pages still work under it in a real browser."""

import pytest
from django.urls import reverse

from copilots.tests.factories import (
    churn_frame,
    make_churn_experiment,
    make_deployment,
    make_failed_run,
    make_pipeline,
    make_succeeded_run,
)
from engine.tests.factories import HTMX
from pycaret_studio.tests.support import browser_login

pytestmark = pytest.mark.django_db


def seeded(user) -> dict[str, str]:
    """A workspace with one of everything; the main page of each, by name."""
    experiment = make_churn_experiment(user)
    succeeded = make_succeeded_run(experiment)
    failed = make_failed_run(experiment)
    pipeline = make_pipeline(succeeded)
    deployment = make_deployment(pipeline, samples=churn_frame(30).drop(columns=["churn"]))
    return {
        "dashboard": reverse("dashboard"),
        "project": reverse("project_detail", args=[experiment.project_id]),
        "dataset": reverse("dataset_detail", args=[experiment.dataset_id]),
        "experiment": reverse("experiment_detail", args=[experiment.pk]),
        "run": reverse("run_detail", args=[succeeded.pk]),
        "failed run": reverse("run_detail", args=[failed.pk]),
        "pipeline": reverse("pipeline_detail", args=[pipeline.pk]),
        "deployment": reverse("deployment_detail", args=[deployment.slug]),
        "API keys": reverse("accounts:api_keys"),
    }


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_strict(response) -> None:
    csp = policy(response)
    for directive in ("default-src", "script-src", "style-src"):
        assert csp[directive] == ["'self'"], (directive, csp.get(directive))
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_login_page_sends_the_policy(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert_strict(response)


def test_every_main_page_sends_the_policy_as_a_page_and_as_a_fragment(alice, alice_client):
    for name, url in seeded(alice).items():
        response = alice_client.get(url)
        assert response.status_code == 200, name
        assert_strict(response)
        assert "<html" in response.content.decode(), name
        fragment = alice_client.get(url, **HTMX)
        assert fragment.status_code in (200, 286), name  # 286: a finished run stops polling
        assert_strict(fragment)


def test_the_api_sends_the_policy_too(alice_client):
    response = alice_client.get("/api/v1/projects")
    assert response.status_code == 200
    assert_strict(response)


def test_htmx_is_told_not_to_inject_its_indicator_style(alice_client):
    html = alice_client.get(reverse("dashboard")).content.decode()
    assert '<meta name="htmx-config"' in html
    assert '"includeIndicatorStyles": false' in html


# In Chromium: every main page loads under the policy without a single violation.

VIOLATIONS_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_work_in_a_browser_with_no_policy_violations(page, live_server, alice):
    pages = seeded(alice)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if message.type in ("error", "warning") else None
        ),
    )
    page.add_init_script(VIOLATIONS_SCRIPT)
    violations: list[str] = []

    def collect(name: str) -> None:
        page.wait_for_load_state("networkidle")
        violations.extend(f"{name}: {v}" for v in page.evaluate("window.__cspViolations"))

    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    collect("login")
    browser_login(page, live_server, alice)
    for name, url in {**pages, "API docs": "/api/v1/docs"}.items():
        page.goto(f"{live_server.url}{url}")
        collect(name)
    page.get_by_text("/api/v1/health").first.wait_for()  # Swagger UI rendered the schema

    # An HTMX form still submits and swaps: rename the project in place.
    page.goto(f"{live_server.url}{pages['project']}")
    page.get_by_text("Rename", exact=True).click()
    page.get_by_label("New name").fill("Retention")
    page.get_by_role("button", name="Save name").click()
    page.get_by_role("heading", level=1, name="Retention").wait_for()
    collect("project rename")

    assert violations == []
    assert not [text for text in console if "Content Security Policy" in text], console
    # The busy indicators are styled by studio.css, not by a <style> htmx injects.
    assert page.locator("head style").count() == 0
