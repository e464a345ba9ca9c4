"""Shared test fixtures: personas, a real Celery worker process, a real browser.

The helpers these fixtures use, and that tests import, live in ordinary modules:
`accounts/tests/factories.py` (personas, logged-in clients) and `pycaret_studio/tests/support.py`
(worker and browser processes). Under CI=true, a test that needs a service (PostgreSQL, Redis, a
worker, Chromium) fails instead of skipping.
"""

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from django.test import Client, override_settings

from accounts.models import User
from accounts.tests.factories import login_client, make_persona
from pycaret_studio.tests.s3 import S3Endpoint
from pycaret_studio.tests.support import (
    CHROMIUM,
    IN_CI,
    TEST_ROOT,
    need_service,
    start_worker,
    stop_worker,
)


@pytest.fixture(scope="session", autouse=True)
def _test_media_root():
    media = TEST_ROOT / "media"
    media.mkdir(parents=True, exist_ok=True)
    with override_settings(MEDIA_ROOT=media):
        yield media
    shutil.rmtree(TEST_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _serving_cache_clear():
    """The predict path's per-process cache (keys, deployments) starts empty in every test: a
    rolled-back test's rows must not answer for the next one's."""
    from django.core.cache import caches

    caches["serving"].clear()


@pytest.fixture(autouse=True)
def _prediction_log_at_once(settings):
    """Tests read the prediction log right after a predict, inside their own transaction, so
    each request's log is written at once. The buffered default (a writer thread) is tested
    explicitly in engine/tests/test_prediction_log.py."""
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0


# Personas: alice, bob and charlie each sign up and own a personal workspace.


@pytest.fixture
def alice(db) -> User:
    return make_persona("alice")


@pytest.fixture
def bob(db) -> User:
    return make_persona("bob")


@pytest.fixture
def charlie(db) -> User:
    return make_persona("charlie")


@pytest.fixture
def alice_client(alice) -> Client:
    return login_client(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return login_client(bob)


# A real Celery worker process against the configured broker and the test database.


@pytest.fixture(scope="session", autouse=True)
def celery_queue():
    """A queue of this test session's own, so no other worker on the machine takes its jobs."""
    from pycaret_studio.celery import app

    queue = f"studio-test-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = previous


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, celery_queue):
    """A real `celery worker` subprocess on the test database; shared by the session."""
    worker = start_worker(queue=celery_queue, log_path=TEST_ROOT / "worker.log")
    yield worker
    stop_worker(worker)


# A real S3-compatible endpoint (moto in server mode, over HTTP), for the object-storage path.


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1 (a free port) with one bucket; see pycaret_studio/tests/s3."""
    endpoint = S3Endpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def s3_worker_env(s3_endpoint) -> dict[str, str]:
    """The environment that points a worker process (start_worker's extra_env) at the bucket."""
    return s3_endpoint.worker_env()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    """This process's STORAGES["default"] on the bucket, as STUDIO_STORAGE_URL would set it.
    Through pytest-django's `settings` (an override_settings it undoes in reverse order), so
    it mixes safely with other fixtures that change settings."""
    settings.STORAGES = s3_endpoint.storages_setting(settings.STORAGES)
    return s3_endpoint


# A real browser.


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        need_service(f"Chromium is not installed at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    return f"studio backends: database={database} broker={broker} CI={IN_CI}"


# No full API key may ever reach a log: every record of the run (and each worker's log) is
# written to one file, which is searched when the session ends.
CAPTURED_LOG = Path(__file__).resolve().parent / "var" / f"pytest-logs-{os.getpid()}.log"
FULL_KEY_PATTERN = re.compile(r"pck_[A-Za-z0-9_\-]{40,}")


def pytest_configure(config):
    CAPTURED_LOG.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(CAPTURED_LOG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    config._studio_log_handler = handler


def pytest_sessionfinish(session, exitstatus):
    handler = getattr(session.config, "_studio_log_handler", None)
    if handler is None:
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    text = CAPTURED_LOG.read_text(errors="replace") if CAPTURED_LOG.exists() else ""
    CAPTURED_LOG.unlink(missing_ok=True)
    leaks = FULL_KEY_PATTERN.findall(text)
    if leaks:
        print(f"\nFAILED: {len(leaks)} full API key(s) found in the captured logs.")
        session.exitstatus = 1
