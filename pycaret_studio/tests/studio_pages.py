"""The studio's main pages, with real objects behind them, for the browser checks that visit
every page (the phone layout, accessibility): one succeeded run of alice's, promoted, reviewed
offline and deployed, plus a failed run and an API key."""

from __future__ import annotations

from django.test.utils import override_settings


def build_main_pages(alice) -> dict[str, str]:
    """Page name → path, every one of them alice's to see."""
    from accounts.services import api_key_create
    from accounts.tests.factories import workspace_of
    from copilots.services import consult
    from engine.models import Run, RunEvent, RunStatus
    from engine.services.deployments import deployment_deploy
    from engine.services.pipelines import pipeline_promote
    from engine.tests.factories import make_succeeded_run

    run = make_succeeded_run(alice, "classifier", name="Tumours <b>bold</b>")
    experiment = run.experiment
    project = experiment.project
    pipeline = pipeline_promote(run=run, user=alice, name="Screening")
    with override_settings(COPILOT_MODEL=""):
        consult(type="deployment_review", obj=pipeline, user=alice)
    with override_settings(STUDIO_SERVING_WARM_UP=False):
        deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    failed = Run.objects.create(
        experiment=experiment,
        plan={"kind": "create", "model": "lr"},
        status=RunStatus.FAILED,
        error_category="DATA",
        error_type="ValueError",
        error_message="A very long error message without spaces " + "x" * 300,
        error_traceback="Traceback (most recent call last):\n" + "  File " * 60,
        created_by=alice,
    )
    RunEvent.objects.create(run=failed, seq=1, message="Setting up " + "y" * 200)
    api_key_create(user=alice, name="nightly retrain CI")
    workspace = workspace_of(alice)
    return {
        "dashboard": "/",
        "project": f"/projects/{project.pk}/",
        "dataset": f"/datasets/{experiment.dataset_id}/",
        "new experiment": f"/datasets/{experiment.dataset_id}/experiments/new/",
        "experiment": f"/experiments/{experiment.pk}/",
        "run": f"/runs/{run.pk}/",
        "failed run": f"/runs/{failed.pk}/",
        "pipeline": f"/pipelines/{pipeline.pk}/",
        "deployment": f"/deployments/{deployment.slug}/",
        "api keys": "/account/api-keys/",
        "workspace": f"/account/workspaces/{workspace.pk}/",
        "audit log": f"/account/workspaces/{workspace.pk}/audit/",
    }


ANONYMOUS_PAGES = {"login": "/account/login/", "signup": "/account/signup/"}


def build_task_pages(alice) -> dict[str, str]:
    """The pages that differ by task: a forecast run and its deployment (chart, forecast table),
    a clustering run (cluster sizes) and an anomaly run (flagged rows)."""
    from engine.services.deployments import deployment_deploy
    from engine.services.pipelines import pipeline_promote
    from engine.tests.factories import make_succeeded_run

    forecast = make_succeeded_run(alice, "forecast", name="Passengers")
    pipeline = pipeline_promote(run=forecast, user=alice, name="Passengers forecast")
    with override_settings(STUDIO_SERVING_WARM_UP=False):
        deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    clusters = make_succeeded_run(alice, "clusters", name="Segments")
    anomalies = make_succeeded_run(alice, "anomalies", name="Outliers")
    return {
        "forecast run": f"/runs/{forecast.pk}/",
        "forecast pipeline": f"/pipelines/{pipeline.pk}/",
        "forecast deployment": f"/deployments/{deployment.slug}/",
        "clustering run": f"/runs/{clusters.pk}/",
        "anomaly run": f"/runs/{anomalies.pk}/",
    }
