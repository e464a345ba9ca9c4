"""A real browser deploys a pipeline from its page, then predicts with the generated form."""

import pandas as pd
import pytest

from engine.models import Deployment
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import make_succeeded_run, predict_model_frame
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
    # Not reviewed: the page asks for a confirmation first, and deploys nothing yet.
    confirm = page.get_by_test_id("deploy-confirm")
    confirm.wait_for()
    assert "This pipeline has not been reviewed." in confirm.inner_text()
    assert not Deployment.objects.exists()
    page.get_by_role("button", name="Deploy anyway").click()
    page.wait_for_url(f"{live_server.url}/deployments/screening-live/")
    assert Deployment.objects.get().slug == "screening-live"
    assert page.get_by_test_id("deployment-status").inner_text() == "active"
    assert "deployed over a warning" in page.get_by_test_id("deployed-over-warning").inner_text()

    # The form is prefilled with typical training values; change one and predict.
    page.get_by_label("mean radius", exact=True).fill("25")
    sent = page.eval_on_selector_all(
        "#predict-form .feature-field",
        "fields => fields.map(f => [f.querySelector('label').textContent,"
        " f.querySelector('input').value])",
    )
    page.get_by_role("button", name="Predict").click()
    label = page.get_by_test_id("prediction-label")
    label.wait_for(timeout=60_000)  # the first prediction loads the pipeline

    # The page shows what PyCaret's own predict_model answers for the row the form sent.
    features = [f["name"] for f in pipeline.feature_schema]
    row = {name: float(value) for name, value in sent}
    assert list(row) == features and row["mean radius"] == 25
    expected = predict_model_frame("classifier", pd.DataFrame([row], columns=features))
    assert label.inner_text() == str(expected["prediction_label"].iloc[0])
    score = float(page.get_by_test_id("prediction-score").inner_text())
    assert score == pytest.approx(expected["prediction_score"].iloc[0], abs=5e-5)
    assert page.url == f"{live_server.url}/deployments/screening-live/"
