"""A real browser deploys a pipeline from its page, then predicts with the generated form."""

import pytest

from engine.models import Deployment
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import make_succeeded_run
from pycaret_studio.tests.support import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore"),
]


def test_deploy_from_the_pipeline_page_then_predict(page, live_server, alice):
    run = make_succeeded_run(alice, "classifier")
    pipeline = pipeline_promote(run=run, user=alice, name="Screening")
    browser_login(page, live_server, alice)

    page.goto(f"{live_server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Slug (optional)").fill("screening-live")
    page.get_by_role("button", name="Deploy v1").click()
    page.wait_for_url(f"{live_server.url}/deployments/screening-live/")
    assert Deployment.objects.get().slug == "screening-live"
    assert page.get_by_test_id("deployment-status").inner_text() == "active"

    # The form is prefilled with typical training values; change one and predict.
    page.get_by_label("mean radius", exact=True).fill("25")
    page.get_by_role("button", name="Predict").click()
    label = page.get_by_test_id("prediction-label")
    label.wait_for(timeout=60_000)  # the first prediction loads the pipeline
    assert label.inner_text() in {"0", "1"}
    score = float(page.get_by_test_id("prediction-score").inner_text())
    assert 0.5 <= score <= 1
    assert page.url == f"{live_server.url}/deployments/screening-live/"
