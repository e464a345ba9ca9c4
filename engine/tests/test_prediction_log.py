"""The buffered prediction log (the default): rows appear once flushed, by interval or by size,
a small input sample per request, and nothing is lost when a process exits cleanly, whether a
plain Python process (atexit) or a gunicorn worker stopped with SIGTERM (worker_exit hook).

The other tests write each request's log at once (the root conftest sets the interval to 0);
these set it back to buffered, or run processes with the shipped defaults."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.services import api_key_create
from engine.models import PredictionRequest, PredictionSample
from engine.services import prediction_log as log_module
from engine.services.prediction_log import prediction_log
from engine.tests.factories import as_records, make_deployment, sample_rows
from pycaret_studio.tests.support import REPO_ROOT, database_url_for_worker, need_service

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.django_db(transaction=True)]

WAIT_S = 60  # a generous bound for a subprocess or the writer thread; no timing is asserted


@pytest.fixture
def deployment(media, alice):
    return make_deployment(alice)


@pytest.fixture
def token(alice):
    return api_key_create(user=alice, name="log", scopes=["predict"])[1]


@pytest.fixture(autouse=True)
def _empty_buffer(settings):
    prediction_log.discard()
    yield
    # The writer thread a test started ends within its next nap once buffering is off; wait
    # for it, so that it cannot take the next test's entries while on its way out.
    writer = prediction_log._thread
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0
    if writer is not None:
        writer.join(WAIT_S)
    prediction_log.discard()


def predict(token: str, slug: str, n: int):
    client = Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)
    rows = as_records(sample_rows("classifier", n=n))
    return client.post(
        f"/api/v1/deployments/{slug}/predict", {"rows": rows}, content_type="application/json"
    )


def wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_request_keeps_a_small_sample_of_its_rows(deployment, token, settings):
    settings.STUDIO_PREDICTION_SAMPLE_ROWS = 10
    assert predict(token, deployment.slug, 100).status_code == 200
    assert PredictionRequest.objects.get().n_rows == 100
    samples = PredictionSample.objects.filter(deployment=deployment)
    assert samples.count() == 10
    names = {f["name"] for f in deployment.pipeline.feature_schema}
    assert all(set(s.inputs) == names and set(s.prediction) == {"label", "score"} for s in samples)


def test_buffered_rows_wait_for_the_interval_then_the_thread_writes_them(
    deployment, token, settings
):
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 3600
    for n in (3, 2):
        assert predict(token, deployment.slug, n).status_code == 200
    assert prediction_log.pending() == 2
    assert not PredictionRequest.objects.exists()  # still in the buffer, not on the request
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0.05  # the thread's next nap ends the interval
    wait_for(lambda: PredictionRequest.objects.count() == 2)
    assert sorted(PredictionRequest.objects.values_list("n_rows", flat=True)) == [2, 3]
    assert PredictionSample.objects.count() == 5
    assert prediction_log.pending() == 0


def test_a_full_buffer_wakes_the_writer_before_the_interval(
    deployment, token, settings, monkeypatch
):
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 3600
    monkeypatch.setattr(log_module, "LOG_MAX_BUFFERED", 3)
    for _ in range(3):
        assert predict(token, deployment.slug, 1).status_code == 200
    wait_for(lambda: PredictionRequest.objects.count() == 3)
    assert PredictionRequest.objects.count() == 3
    assert prediction_log.pending() == 0


def _subprocess_env(media) -> dict:
    if connection.vendor == "sqlite":
        need_service("PostgreSQL: another process must see the test database")
    env = os.environ.copy()
    # The shipped defaults: buffered log, 10-row samples.
    env.pop("STUDIO_PREDICTION_LOG_FLUSH_S", None)
    env.pop("STUDIO_PREDICTION_SAMPLE_ROWS", None)
    env.update(
        {
            "DATABASE_URL": database_url_for_worker(connection.settings_dict),
            "MEDIA_ROOT": str(media),
            "DJANGO_SETTINGS_MODULE": "pycaret_studio.settings",
            "STUDIO_SERVING_WARM_UP": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.conf import settings
    from accounts.models import User
    from engine.models import Deployment, PredictionRequest
    from engine.services.prediction_log import prediction_log
    from engine.services.predictions import deployment_predict

    deployment = Deployment.objects.select_related("pipeline", "project__workspace").get(
        slug=sys.argv[1]
    )
    rows = json.loads(sys.stdin.read())
    answer = deployment_predict(
        deployment=deployment, rows=rows, user=User.objects.get(username="alice")
    )
    print(json.dumps({
        "predictions": len(answer["predictions"]),
        "pending": prediction_log.pending(),
        "written_before_exit": PredictionRequest.objects.count(),
        "interval": settings.STUDIO_PREDICTION_LOG_FLUSH_S,
        "sample_rows": settings.STUDIO_PREDICTION_SAMPLE_ROWS,
    }))
    """
)


def test_a_process_that_exits_normally_writes_its_buffer(deployment, media):
    rows = as_records(sample_rows("classifier", n=100))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, deployment.slug],
        input=json.dumps(rows),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=_subprocess_env(media),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "predictions": 100,
        "pending": 1,
        "written_before_exit": 0,
        "interval": 1.0,
        "sample_rows": 10,
    }
    assert PredictionRequest.objects.get(deployment=deployment).n_rows == 100
    assert PredictionSample.objects.filter(deployment=deployment).count() == 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, token: str, slug: str, rows: list[dict]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST",
            f"/api/v1/deployments/{slug}/predict",
            body=json.dumps({"rows": rows}),
            headers={"Content-Type": "application/json", "X-PyCaret-Key": token},
        )
        return conn.getresponse().status
    finally:
        conn.close()


def _up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_gunicorn_worker_stopped_with_sigterm_writes_its_buffer(
    deployment, token, media, tmp_path
):
    env = _subprocess_env(media)
    env["STUDIO_PREDICTION_LOG_FLUSH_S"] = "3600"  # only the exit can write it
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "pycaret_studio.wsgi"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120"],
            cwd=REPO_ROOT,  # gunicorn.conf.py, with the worker_exit hook
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: _up(port) or server.poll() is not None)
        assert server.poll() is None, log_path.read_text()[-3000:]
        for n in (1, 100):
            rows = as_records(sample_rows("classifier", n=n))
            assert _post(port, token, deployment.slug, rows) == 200
        assert not PredictionRequest.objects.exists()  # buffered in the worker
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=WAIT_S) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert sorted(PredictionRequest.objects.values_list("n_rows", flat=True)) == [1, 100]
    assert PredictionSample.objects.filter(deployment=deployment).count() == 1 + 10
    assert "buffered prediction log entries on exit" in log_path.read_text()


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_copy_and_bulk_create_write_the_same_rows(deployment, monkeypatch, vendor):
    # PostgreSQL writes the log with COPY; any other database (SQLite) with bulk_create.
    if vendor == "postgresql" and connection.vendor != "postgresql":
        need_service("the COPY path needs PostgreSQL")
    monkeypatch.setattr(connection, "vendor", vendor)
    now = timezone.now()
    inputs = {"mean radius": 14.2, "colour": 'red, "dark"\n\\ tab\t', "missing": None}
    log_module.insert_rows(
        PredictionRequest,
        log_module.REQUEST_FIELDS,
        [
            (deployment.pk, now, 3, None, 1.5, 200, "api"),
            (deployment.pk, now, 0, 12, 2.0, 422, "api"),
        ],
    )
    log_module.insert_rows(
        PredictionSample,
        log_module.SAMPLE_FIELDS,
        [
            (deployment.pk, now, inputs, {"label": "B", "score": 0.9}),
            (deployment.pk, now, inputs, None),
        ],
    )
    requests = list(PredictionRequest.objects.filter(deployment=deployment).order_by("id"))
    assert [(r.created_at, r.n_rows, r.horizon, r.latency_ms, r.status_code) for r in requests] == [
        (now, 3, None, 1.5, 200),
        (now, 0, 12, 2.0, 422),
    ]
    samples = list(PredictionSample.objects.filter(deployment=deployment).order_by("id"))
    assert [(s.inputs, s.prediction) for s in samples] == [
        (inputs, {"label": "B", "score": 0.9}),
        (inputs, None),
    ]


def test_requests_logged_while_the_writer_exits_are_still_written(
    deployment, token, settings, monkeypatch
):
    # The writer thread ends when buffering is switched off; requests buffered while it is
    # on its way out (closing its connection) get a new writer rather than wait forever.
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0.05
    assert predict(token, deployment.slug, 1).status_code == 200  # starts the writer
    wait_for(lambda: PredictionRequest.objects.count() == 1)
    exiting, release = threading.Event(), threading.Event()
    close_all = log_module.connections.close_all

    def slow_close_all():
        if threading.current_thread().name == "prediction-log":
            exiting.set()
            release.wait(WAIT_S)
        close_all()

    monkeypatch.setattr(log_module.connections, "close_all", slow_close_all)
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 0
    assert exiting.wait(WAIT_S)
    settings.STUDIO_PREDICTION_LOG_FLUSH_S = 3600
    monkeypatch.setattr(log_module, "LOG_MAX_BUFFERED", 3)
    try:
        for _ in range(3):
            assert predict(token, deployment.slug, 1).status_code == 200
        wait_for(lambda: PredictionRequest.objects.count() == 4)
        assert PredictionRequest.objects.count() == 4
    finally:
        release.set()
