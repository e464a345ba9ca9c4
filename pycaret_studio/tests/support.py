"""Test support for real processes: a Celery worker subprocess, Chromium, and services that
CI must have (a test that needs one fails in CI instead of skipping)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from accounts.tests.factories import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
TEST_ROOT = REPO_ROOT / "var" / f"pytest-{os.getpid()}"


def need_service(reason: str) -> None:
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"CI requires this service: {reason}")
    pytest.skip(reason)


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


def start_worker(
    *, queue: str, log_path: Path, extra_env: dict | None = None, hostname: str | None = None
) -> WorkerProcess:
    """A `celery worker` on `queue`, named `hostname` (default `<queue>@%h`)."""
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
            hostname or f"{queue}@%h",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
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


# A real browser.


def browser_login(page, live_server, user) -> None:
    """Log `user` (a persona, with the personas' password) in through the real login form."""
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


# axe-core, from the npm registry through the project's own package.json and lock.

AXE_DIR = REPO_ROOT / "var" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def install_axe() -> Path:
    """axe.min.js, installed with `npm ci` into var/axe from package.json and package-lock.json
    when it is missing or the pinned version changed. Skips locally, fails in CI, without npm."""
    import shutil

    manifest = [REPO_ROOT / "package.json", REPO_ROOT / "package-lock.json"]
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    current = all(
        (AXE_DIR / f.name).exists() and (AXE_DIR / f.name).read_bytes() == f.read_bytes()
        for f in manifest
    )
    if current and AXE_SCRIPT.exists():
        return AXE_SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        need_service("npm is not installed: it installs axe-core for the accessibility tests")
    for f in manifest:
        shutil.copyfile(f, AXE_DIR / f.name)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=AXE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not AXE_SCRIPT.exists():
        need_service(f"npm ci could not install axe-core: {done.stderr[-2000:]}")
    return AXE_SCRIPT
