"""On a phone (390×844), every main page fits the screen: nothing makes the page wider than the
viewport (sidebars stack, wide tables scroll inside their card), and the header spans the width."""

import pytest

from pycaret_studio.tests.studio_pages import ANONYMOUS_PAGES, build_main_pages, build_task_pages
from pycaret_studio.tests.support import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore"),
]

PHONE = {"width": 390, "height": 844}

# The elements that stick out past the right edge, for the failure message.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .filter(el => !(el.parentElement && el.parentElement.closest('.table-wrap, pre')))
    .slice(0, 8)
    .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')}`
      + ` (${Math.round(el.getBoundingClientRect().right)}px)`);
}"""


def measure(page, url: str) -> dict:
    response = page.goto(url)
    assert response is not None and response.ok, url
    page.wait_for_load_state("networkidle")
    return page.evaluate(
        """(overflowing) => ({
          scrollWidth: document.documentElement.scrollWidth,
          header: document.querySelector('header.topbar').getBoundingClientRect().width,
          viewport: document.documentElement.clientWidth,
          overflowing: eval(overflowing)(),
        })""",
        OVERFLOWING,
    )


def check(page, url: str) -> str | None:
    sizes = measure(page, url)
    if sizes["scrollWidth"] > PHONE["width"] or sizes["header"] < sizes["viewport"]:
        return f"{url}: {sizes}"
    return None


def test_every_main_page_fits_a_phone(browser, live_server, alice):
    pages = build_main_pages(alice)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        problems = [check(page, live_server.url + path) for path in ANONYMOUS_PAGES.values()]
        browser_login(page, live_server, alice)
        problems += [check(page, live_server.url + path) for path in pages.values()]
    finally:
        context.close()
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_forecast_clustering_and_anomaly_pages_fit_a_phone(browser, live_server, alice):
    pages = build_task_pages(alice)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, live_server, alice)
        problems = [check(page, live_server.url + path) for path in pages.values()]
    finally:
        context.close()
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_a_wide_table_scrolls_inside_its_card_and_can_be_focused(browser, live_server, alice):
    pages = build_main_pages(alice)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        browser_login(page, live_server, alice)
        page.goto(live_server.url + pages["run"])
        wraps = page.eval_on_selector_all(
            ".table-wrap",
            "els => els.map(el => ({scrolls: el.scrollWidth > el.clientWidth,"
            " tabindex: el.getAttribute('tabindex'), label: el.getAttribute('aria-label')}))",
        )
    finally:
        context.close()
    assert any(w["scrolls"] for w in wraps)  # the leaderboard is wider than a phone
    for wrap in wraps:
        assert wrap["tabindex"] == "0" and wrap["label"], wrap
