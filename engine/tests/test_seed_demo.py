"""`manage.py seed_demo` leaves a new user a finished leaderboard and a live deployment."""

import io

import pytest
from django.core.management import call_command

from engine.models import Deployment, Pipeline, Run

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_trains_promotes_and_deploys_the_demo_once(monkeypatch):
    from engine.management.commands import seed_demo

    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", "a-demo-password-for-tests")
    # The same plan kind, smaller, to keep the suite fast.
    monkeypatch.setattr(
        seed_demo, "DEMO_PLAN", {"kind": "compare", "include": ["lr", "nb"], "fold": 2}
    )
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    run = Run.objects.get()
    assert run.status == "succeeded", run.error_message
    assert [row["model_id"] for row in run.leaderboard] and run.artifact_sha256
    pipeline = Pipeline.objects.get()
    assert pipeline.origin_run == run and pipeline.version == 1
    deployment = Deployment.objects.get()
    assert deployment.pipeline == pipeline and deployment.is_active
    assert "Demo login: demo / a-demo-password-for-tests" in out.getvalue()
