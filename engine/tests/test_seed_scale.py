"""`manage.py seed_scale`: one workspace at scale, in proportion to --runs."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from copilots.models import Consultation
from engine.metrics import TRAINING_TIME, leaderboard_order, task_metrics
from engine.models import (
    Dataset,
    Deployment,
    Experiment,
    Pipeline,
    PredictionRequest,
    Project,
    Run,
    RunEvent,
)

pytestmark = pytest.mark.django_db


def test_seed_scale_at_100_runs_makes_a_small_copy_in_proportion():
    call_command("seed_scale", "--runs", "100", "--username", "small")
    workspace = User.objects.get(username="small").memberships.get().workspace
    in_ws = {"project__workspace": workspace}
    assert Project.objects.filter(workspace=workspace).count() == 1
    assert Run.objects.filter(experiment__project__workspace=workspace).count() == 100
    assert Experiment.objects.filter(**in_ws).count() == 2
    assert Dataset.objects.filter(**in_ws).count() == 5
    assert Pipeline.objects.filter(**in_ws).count() == 1
    assert Deployment.objects.filter(**in_ws).count() == 1
    assert PredictionRequest.objects.filter(deployment__project__workspace=workspace).count() == (
        1000
    )
    assert Consultation.objects.filter(workspace=workspace).count() == 10
    assert RunEvent.objects.filter(run__experiment__project__workspace=workspace).count() == 300


def test_seeded_runs_carry_leaderboards_in_pycaret_order_and_outcomes():
    call_command("seed_scale", "--runs", "60", "--username", "small")
    runs = Run.objects.select_related("experiment")
    succeeded = runs.filter(status="succeeded")
    assert succeeded.count() == 54 and runs.filter(status="failed").count() == 3
    for run in succeeded:
        metrics = task_metrics(run.experiment.task)
        row = run.leaderboard[0]
        assert [c for c in leaderboard_order(row) if c in metrics or c == TRAINING_TIME] == [
            *metrics,
            TRAINING_TIME,
        ]
        assert run.model_id == row["model_id"] and run.leaderboard_sort == metrics[0]
    compare = succeeded.filter(plan__kind="compare").first()
    assert len(compare.leaderboard) == 4
    assert succeeded.filter(plan__kind="tune", outcome__tune__kept_original=True).exists()


def test_seed_scale_refuses_an_existing_user_and_a_bad_size():
    call_command("seed_scale", "--runs", "10", "--username", "small")
    with pytest.raises(CommandError, match="exists already"):
        call_command("seed_scale", "--runs", "10", "--username", "small")
    with pytest.raises(CommandError, match="between"):
        call_command("seed_scale", "--runs", "0", "--username", "other")
