"""axe-core finds no serious or critical accessibility violation on the studio's main pages:
signed out (login, signup) and signed in (dashboard, project, dataset, experiment, runs,
pipeline, deployment, API keys, workspace, audit log), on a desktop and on a phone."""

import json

import pytest

from pycaret_studio.tests.studio_pages import ANONYMOUS_PAGES, build_main_pages, build_task_pages
from pycaret_studio.tests.support import REPO_ROOT, browser_login, install_axe

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore"),
]

SERIOUS = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
  }));
}"""


@pytest.fixture(scope="session")
def axe_script():
    return install_axe()


def violations(page, url: str, axe_script) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.ok, url
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(axe_script))
    found = page.evaluate(RUN_AXE)
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} at {v['targets']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_main_pages_have_no_serious_axe_violations(
    browser, live_server, alice, axe_script, viewport
):
    pages = build_main_pages(alice)
    # The studio's Content-Security-Policy refuses inline scripts, which is how axe is injected.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        problems = []
        for path in ANONYMOUS_PAGES.values():
            problems += violations(page, live_server.url + path, axe_script)
        browser_login(page, live_server, alice)
        for path in pages.values():
            problems += violations(page, live_server.url + path, axe_script)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_forecast_clustering_and_anomaly_pages_have_no_serious_axe_violations(
    browser, live_server, alice, axe_script
):
    pages = build_task_pages(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        browser_login(page, live_server, alice)
        problems = []
        for path in pages.values():
            problems += violations(page, live_server.url + path, axe_script)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=False)
def test_axe_core_is_pinned_exactly_in_package_json_and_its_lock():
    wanted = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    assert wanted[0].isdigit()  # an exact version, never a range
    assert lock["packages"]["node_modules/axe-core"]["version"] == wanted
    assert lock["packages"]["node_modules/axe-core"]["integrity"].startswith("sha512-")
