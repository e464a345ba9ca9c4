"""The deployment page: copy-paste API examples built from a real training row, the pipeline
download with its sha256 and a load_model snippet, and the 7-day traffic chart."""

import ast
import hashlib
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from engine import serving
from engine.models import PredictionRequest
from engine.selectors.deployments import (
    deployment_example_row,
    deployment_traffic,
)
from engine.templatetags.snippets import api_snippets
from engine.templatetags.traffic import traffic_svg
from engine.tests.factories import HTMX, labels_frame, make_deployment

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture(autouse=True)
def _fresh():
    serving.cache_clear()
    cache.clear()
    yield
    serving.cache_clear()


@pytest.fixture
def deployment(alice):
    return make_deployment(alice, "labels", name="Labels <b>")


def first_training_row() -> dict:
    row = labels_frame().iloc[0].drop("target").to_dict()
    return {k: (None if v != v else v) for k, v in row.items()}  # NaN as null


# API examples.


def test_the_example_row_is_the_first_training_row(deployment):
    row = deployment_example_row(deployment=deployment)
    expected = first_training_row()
    assert list(row) == ["size", "colour", "count"]
    assert row["colour"] == expected["colour"] and row["count"] == expected["count"]
    assert row["size"] == pytest.approx(expected["size"])


def test_the_snippets_send_that_row_and_read_the_key_from_the_environment(deployment):
    row = deployment_example_row(deployment=deployment)
    url = "http://testserver/api/v1/deployments/labels-b/predict"
    snippets = api_snippets(deployment, row, url)
    assert set(snippets) == {"curl", "python", "javascript"}
    curl = snippets["curl"]
    assert curl.startswith(f"curl -X POST {url}") and "X-PyCaret-Key: $PYCARET_KEY" in curl
    body = json.loads(curl.split("-d ", 1)[1].strip("'"))
    assert body == {"rows": [row]}
    python = snippets["python"]
    assert 'os.environ["PYCARET_KEY"]' in python and "requests.post(" in python
    literal = python.split("body = ", 1)[1].split("\nresponse", 1)[0]
    assert ast.literal_eval(literal) == {"rows": [row]}  # valid Python, the same row
    js = snippets["javascript"]
    assert "process.env.PYCARET_KEY" in js and f'fetch("{url}"' in js
    assert json.loads(js.split("const body = ", 1)[1].split(";\n", 1)[0]) == {"rows": [row]}


def test_the_page_shows_the_snippets_download_and_traffic(alice_client, deployment):
    PredictionRequest.objects.create(deployment=deployment, latency_ms=12.0)
    PredictionRequest.objects.create(deployment=deployment, latency_ms=3.0, status_code=422)
    url = reverse("deployment_detail", args=[deployment.slug])
    page = alice_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for testid in ("snippet-curl", "snippet-python", "snippet-javascript", "traffic-chart"):
        assert f'data-testid="{testid}"' in html
    assert "http://testserver/api/v1/deployments/" in html and "PYCARET_KEY" in html
    pipeline = deployment.pipeline
    assert reverse("pipeline_download", args=[pipeline.pk]) in html
    assert pipeline.artifact_sha256 in html and "load_model(&quot;labels-b-v1&quot;)" in html
    assert "Labels <b>" not in html and "Labels &lt;b&gt;" in html
    assert "2 calls, 1 error" in html
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert "<html" not in fragment and 'data-testid="snippet-curl"' in fragment


def test_the_download_is_the_pipeline_file_with_its_sha256(alice_client, deployment):
    pipeline = deployment.pipeline
    response = alice_client.get(reverse("pipeline_download", args=[pipeline.pk]))
    assert response.status_code == 200
    assert 'filename="labels-b-v1.pkl"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == pipeline.artifact_sha256


def test_bob_cannot_download_alices_pipeline_or_see_the_page(bob_client, deployment):
    download = reverse("pipeline_download", args=[deployment.pipeline.pk])
    assert bob_client.get(download).status_code == 404
    page = reverse("deployment_detail", args=[deployment.slug])
    assert bob_client.get(page).status_code == 404
    assert bob_client.get(page, **HTMX).status_code == 404


# Traffic: requests, errors and p50/p95 latency per hour.


def test_traffic_is_bucketed_by_hour_over_seven_days(deployment):
    now = timezone.now()
    log = PredictionRequest.objects.create
    for ms in (10.0, 20.0, 30.0):
        log(deployment=deployment, created_at=now - timedelta(hours=2), latency_ms=ms)
    log(deployment=deployment, created_at=now - timedelta(hours=2), status_code=500)
    log(deployment=deployment, created_at=now, latency_ms=5.0)
    log(deployment=deployment, created_at=now, latency_ms=500.0, source="batch")  # not a call
    log(deployment=deployment, created_at=now - timedelta(days=8))  # outside the window
    traffic = deployment_traffic(deployment=deployment)
    assert len(traffic) == 7 * 24
    busy = [h for h in traffic if h["requests"]]
    assert [(h["requests"], h["errors"]) for h in busy] == [(4, 1), (1, 0)]
    assert (busy[0]["p50_ms"], busy[0]["p95_ms"]) == (20.0, 29.0)
    assert busy[1]["p50_ms"] == 5.0
    svg = str(traffic_svg(traffic))
    assert svg.startswith('<svg class="traffic-chart"') and "5 calls, 1 error;" in svg
    assert "4 calls, 1 error</title>" in svg


def test_no_traffic_draws_no_chart(alice_client, deployment):
    html = alice_client.get(reverse("deployment_detail", args=[deployment.slug])).content
    assert b"No predict calls in the last 7 days." in html
    assert traffic_svg([]) == ""
