"""`manage.py seed_demo` leaves a new user a finished leaderboard and a live deployment."""

import io

import pytest
from django.core.management import call_command

from copilots.models import Consultation
from engine.management.commands.seed_demo import DEMO_PLAN, SERIES_PLAN
from engine.models import Deployment, DeploymentRevision, Pipeline, Run

pytestmark = pytest.mark.django_db(transaction=True)


# The plans `make run` ships, run once and unchanged (10-30 s): a demo that does not train
# would otherwise be found by the first person to try the studio.
@pytest.mark.slow
def test_seed_trains_promotes_and_deploys_the_demo_once(monkeypatch):
    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", "a-demo-password-for-tests")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    run = Run.objects.get(experiment__task="classification")
    assert {key: run.plan[key] for key in DEMO_PLAN} == DEMO_PLAN  # plus the plan's defaults
    assert run.status == "succeeded", run.error_message
    board = run.leaderboard
    assert sorted(row["model_id"] for row in board) == sorted(DEMO_PLAN["include"])
    assert run.model_id == board[0]["model_id"] and run.artifact_sha256
    assert run.metrics["Accuracy"] > 0.9  # scikit-learn's breast_cancer is an easy problem
    pipeline = Pipeline.objects.get(task="classification")
    assert pipeline.origin_run == run and pipeline.version == 1
    deployment = Deployment.objects.get(pipeline__task="classification")
    assert deployment.pipeline == pipeline and deployment.is_active
    # Reviewed (offline) before it was deployed, unattended: the history records a warning
    # only if that review did not approve it.
    review = Consultation.objects.get(type="deployment_review", pipeline=pipeline)
    assert review.offline
    approved = not review.advice["verdict"].startswith("DO NOT DEPLOY")
    assert (DeploymentRevision.objects.get(deployment=deployment).warning == "") is approved
    assert "Demo login: demo / a-demo-password-for-tests" in out.getvalue()

    series = Run.objects.get(experiment__task="time_series")
    assert series.status == "succeeded", series.error_message
    assert sorted(row["model_id"] for row in series.leaderboard) == sorted(SERIES_PLAN["include"])
    assert series.summary["forecast"][0]["period"] == "1961-01"
    forecast = Deployment.objects.get(pipeline__task="time_series")
    assert forecast.is_active and forecast.pipeline.origin_run == series
    assert Run.objects.count() == 2 and Deployment.objects.count() == 2
