"""Shared test fixtures: personas, a real Celery worker process, a real browser.

Under CI=true, a test that needs a service (PostgreSQL, Redis, a worker, Chromium) fails
instead of skipping.
"""

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client, override_settings

from accounts.models import User
from accounts.services import user_signup

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
TEST_ROOT = Path(__file__).resolve().parent / "var" / f"pytest-{os.getpid()}"


def need_service(reason: str) -> None:
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"CI requires this service: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _test_media_root():
    media = TEST_ROOT / "media"
    media.mkdir(parents=True, exist_ok=True)
    with override_settings(MEDIA_ROOT=media):
        yield media
    shutil.rmtree(TEST_ROOT, ignore_errors=True)


# Personas: alice, bob and charlie each sign up and own a personal workspace.
PASSWORD = "correct-horse-battery-staple"


def _persona(name: str) -> User:
    return user_signup(username=name, password=PASSWORD, email=f"{name}@example.com")


@pytest.fixture
def alice(db) -> User:
    return _persona("alice")


@pytest.fixture
def bob(db) -> User:
    return _persona("bob")


@pytest.fixture
def charlie(db) -> User:
    return _persona("charlie")


def login_client(user: User, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return login_client(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return login_client(bob)


def workspace_of(user: User):
    return user.memberships.select_related("workspace").first().workspace


# A real Celery worker process against the configured broker and the test database.


def database_url_for_worker(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, log_path: Path, queue: str):
        self.proc = proc
        self.log_path = log_path
        self.queue = queue

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_child_pids(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]


def start_worker(*, queue: str, log_path: Path, extra_env: dict | None = None) -> WorkerProcess:
    from django.conf import settings
    from django.db import connection

    env = os.environ.copy()
    env.update(
        {
            "DATABASE_URL": database_url_for_worker(connection.settings_dict),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "STUDIO_QUEUE_DIR": str(settings.CELERY_QUEUE_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pycaret_studio",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent,
        start_new_session=True,
    )
    worker = WorkerProcess(proc, log_path, queue)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "ready." in worker.log():
            return worker
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop_worker(worker)
    pytest.fail(f"Celery worker did not start:\n{worker.log()[-4000:]}")


def stop_worker(worker: WorkerProcess) -> None:
    with contextlib.suppress(OSError):
        logging.getLogger("test.worker").info("worker log:\n%s", worker.log())
    if worker.proc.poll() is None:
        try:
            os.killpg(worker.proc.pid, signal.SIGTERM)
            worker.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    # Pool children can outlive their parent (a killed worker leaves them to init): reap the
    # whole process group, so no test leaves processes behind.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.proc.wait(timeout=5)


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


def browser_login(page, live_server, user: User) -> None:
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


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
