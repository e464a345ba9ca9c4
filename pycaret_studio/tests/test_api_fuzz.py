"""schemathesis against the live server's OpenAPI schema, with a valid all-scope API key.

Every phase runs, the stateful one included, with four checks: no 5xx, every status and
content type is one the schema documents for the route, and every body matches its documented
schema. The seeded workspace holds a project, a dataset, an experiment, a succeeded run, a
pipeline and a deployment, so the operations have real objects to reach.

Runs the fuzzer submits stay queued on a queue of the test's own that no worker consumes (the
session's worker, if one runs, never trains random plans); they are cancelled at the end.
"""

import contextlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from accounts.models import Scope
from accounts.services import api_key_create
from engine.models import BatchPrediction, Run, RunStatus
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.services.runs import run_cancel
from engine.tests.factories import make_succeeded_run

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
MAX_EXAMPLES = 12
TIMEOUT_S = 600


@pytest.fixture
def fuzz_queue(settings):
    """A Celery queue no worker reads, purged afterwards."""
    from pycaret_studio.celery import app

    queue = f"studio-fuzz-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    settings.STUDIO_SERVING_WARM_UP = False
    yield queue
    app.conf.task_default_queue = previous
    # The queue may never have been declared.
    with app.connection_for_write() as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge(queue)


def test_schemathesis_finds_no_failure(live_server, alice, fuzz_queue, tmp_path):
    run = make_succeeded_run(alice, "classifier")
    pipeline = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment_deploy(acknowledge_risks=True, pipeline=pipeline, user=alice)
    _, token = api_key_create(user=alice, name="fuzzer", scopes=[s.value for s in Scope])

    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--seed",
        "20251130",
        "--request-timeout",
        "60",
        "--suppress-health-check",
        "all",
        "--header",
        f"X-PyCaret-Key: {token}",
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--output-sanitize",
        "true",
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    print(output[-6000:])

    # Nothing the fuzzer submitted is left running: no worker took it, and it is cancelled.
    for leftover in Run.objects.filter(status=RunStatus.QUEUED):
        run_cancel(run=leftover, user=alice)
    assert not Run.objects.filter(status=RunStatus.RUNNING).exists()
    assert not BatchPrediction.objects.filter(status=RunStatus.RUNNING).exists()
    assert result.returncode == 0, output[-20000:]
