"""In a real browser: a metric PyCaret could not compute reads "—" and sorts last either way."""

import pandas as pd
import pytest
from django.utils import timezone

from engine.models import Experiment, Run
from engine.tests.factories import make_dataset, make_project
from pycaret_studio.tests.support import browser_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_metric_pycaret_could_not_compute_sorts_last_both_ways(live_server, page, alice):
    frame = pd.DataFrame({"x": range(40), "y": ["a", "b", "c", "d"] * 10})
    dataset = make_dataset(make_project(alice), frame)
    experiment = Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )
    now = timezone.now()
    board = [  # PyCaret's multiclass leaderboard: lr and ridge got AUC 0.0 ("not computed")
        {"model_id": "knn", "Model": "K Neighbors", "Accuracy": 0.9429, "AUC": 0.994},
        {"model_id": "lr", "Model": "Logistic Regression", "Accuracy": 0.9427, "AUC": 0.0},
        {"model_id": "dt", "Model": "Decision Tree", "Accuracy": 0.9238, "AUC": 0.9424},
        {"model_id": "ridge", "Model": "Ridge", "Accuracy": 0.8376, "AUC": 0.0},
    ]
    run = Run.objects.create(
        experiment=experiment,
        plan={"kind": "compare"},
        status="succeeded",
        started_at=now,
        finished_at=now,
        model_id="knn",
        model_name="K Neighbors",
        leaderboard=board,
        leaderboard_sort="Accuracy",
        metrics={"Accuracy": 0.95, "AUC": 0.99},
    )
    browser_login(page, live_server, alice)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    auc = page.locator("#leaderboard thead").get_by_role("button", name="AUC")
    cells = page.locator("#leaderboard tbody tr td:nth-of-type(2)")
    for _ in ("ascending", "descending"):
        auc.click()
        shown = [c.strip() for c in cells.all_inner_texts()]
        assert shown[-2:] == ["—", "—"], shown
        assert "0.0000" not in shown
    assert (
        page.locator("td.not-computed")
        .first.get_attribute("title")
        .startswith("PyCaret could not compute AUC")
    )
