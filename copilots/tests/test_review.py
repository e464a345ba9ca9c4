"""The review happy path on a really trained pipeline: train → promote → review."""

from __future__ import annotations

import pytest
from django.utils import timezone

from copilots.models import Consultation
from engine.models import Run
from engine.storage import run_file, save_file
from engine.tests.factories import breast_cancer_frame, make_dataset, make_experiment, make_project

pytestmark = pytest.mark.filterwarnings("ignore")

SETUP = {"fold": 2, "session_id": 123}
PLAN = {"kind": "create", "model_id": "lr"}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One real PyCaret run (logistic regression, 2 folds) for the whole session."""
    from engine.runner import ListSink, execute_plan

    work_dir = tmp_path_factory.mktemp("review-run")
    result = execute_plan(
        plan=PLAN,
        data=breast_cancer_frame(),
        task="classification",
        target="target",
        setup_options=SETUP,
        work_dir=work_dir,
        sink=ListSink(),
        dataset_sha256="b" * 64,
    )
    return result, work_dir


def _record(experiment, result, work_dir) -> Run:
    """The Run row as the worker records a success, with its artifact in media."""
    now = timezone.now()
    run = Run.objects.create(experiment=experiment, plan=PLAN, status="running", started_at=now)
    save_file(run_file(run.pk, result.artifact_filename), work_dir / result.artifact_filename)
    Run.objects.filter(pk=run.pk).update(
        status="succeeded",
        finished_at=now,
        model_id=result.model_id,
        model_name=result.model_name,
        leaderboard=result.leaderboard,
        leaderboard_sort=result.leaderboard_sort,
        metrics=result.holdout_metrics,
        preprocessing=result.preprocessing,
        feature_schema=result.feature_schema,
        model_params=result.model_params,
        target_classes=result.target_classes,
        environment=result.environment,
        artifact_path=f"runs/{run.pk}/{result.artifact_filename}",
        artifact_sha256=result.artifact_sha256,
    )
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_train_promote_review(trained, alice, alice_client):
    from engine.services.pipelines import pipeline_promote

    result, work_dir = trained
    project = make_project(alice, name="Cancer")
    dataset = make_dataset(project, breast_cancer_frame(), name="cancer.csv")
    experiment = make_experiment(dataset, target="target", setup=SETUP, user=alice)
    run = _record(experiment, result, work_dir)
    pipeline = pipeline_promote(run=run, user=alice, name="cancer")

    response = alice_client.post(
        "/api/v1/llm/review-deployment",
        {"pipeline_id": pipeline.pk},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    consultation = Consultation.objects.get(pk=body["consultation_id"])
    assert consultation.run_id == pipeline.origin_run_id == run.pk
    assert consultation.pipeline_id == pipeline.pk
    assert consultation.project_id == project.pk
    risks = {r["name"]: r for r in body["risks"]}
    # trained and served by this very environment, with PyCaret's own preprocessing
    assert not [name for name in risks if name.startswith(("version skew", "training env"))]
    assert not [name for name in risks if "unknown" in name or "no imputer" in name]
    assert "overfit: perfect cross-validation score" not in risks
    assert risks["small training sample"]["evidence"] == "398 training rows"
    assert body["verdict"].startswith("APPROVE")
    assert "Logistic Regression" in body["reasoning_summary"]
