"""Run pages: the New run form and list on the experiment page, the live run page, plots."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.utils import timezone

from engine.models import Experiment, Run, RunEvent
from engine.tests.factories import HTMX, make_dataset, make_project

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def experiment(alice) -> Experiment:
    frame = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )


def make_run(experiment, **fields) -> Run:
    return Run.objects.create(
        experiment=experiment,
        plan={"kind": "compare", "include": ["lr", "dt"], "n_select": 1},
        **fields,
    )


def succeeded_run(experiment) -> Run:
    now = timezone.now()
    run = make_run(
        experiment,
        status="succeeded",
        started_at=now,
        finished_at=now,
        model_id="dt",
        model_name="Decision Tree Classifier",
        leaderboard=[
            {"model_id": "dt", "Model": "Decision Tree Classifier", "Accuracy": 0.91},
            {"model_id": "lr", "Model": "<b>Logistic</b> Regression", "Accuracy": 0.9},
        ],
        leaderboard_sort="Accuracy",
        metrics={"Model": "Decision Tree Classifier", "Accuracy": 0.93, "AUC": 0.9},
        plots=[{"name": "auc", "filename": "auc.png"}],
        environment={"pycaret": "3.3.2", "python": "3.11.9"},
    )
    run_dir = Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "auc.png").write_bytes(PNG)
    return run


def test_the_experiment_page_has_the_new_run_form_and_the_runs_list(alice_client, experiment):
    make_run(experiment, status="running", progress_done=2, progress_total=8)
    page = alice_client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'id="new-run"' in page and 'name="kind"' in page
    assert 'value="lightgbm"' in page and "Light Gradient Boosting Machine" in page
    assert 'id="runs-list"' in page and 'hx-trigger="runSubmitted from:body, every 3s"' in page
    assert "25%" in page


def test_submitting_the_form_with_htmx_creates_a_run_and_triggers_the_list(
    alice_client, experiment
):
    data = {"kind": "compare", "models": ["lr", "nb"], "fold": "2"}
    response = alice_client.post(f"/experiments/{experiment.pk}/runs/new/", data, **HTMX)
    assert response.status_code == 200
    assert "runSubmitted" in response["HX-Trigger"]
    run = Run.objects.get()
    assert run.plan == {"kind": "compare", "include": ["lr", "nb"], "fold": 2, "n_select": 1}
    body = response.content.decode()
    assert 'id="new-run"' in body and "<html" not in body and f"{run.label} submitted" in body

    listing = alice_client.get(f"/experiments/{experiment.pk}/runs/", **HTMX)
    assert f"Run #{run.pk} · compare" in listing.content.decode()
    assert "<html" not in listing.content.decode()


def test_submitting_without_javascript_goes_to_the_run_page(alice_client, experiment):
    response = alice_client.post(
        f"/experiments/{experiment.pk}/runs/new/", {"kind": "create", "model_id": "lr"}
    )
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert run.plan == {"kind": "create", "model_id": "lr", "params": {}}


def test_form_errors_re_render_the_form(alice_client, experiment):
    response = alice_client.post(
        f"/experiments/{experiment.pk}/runs/new/", {"kind": "tune"}, **HTMX
    )
    assert response.status_code == 422
    assert "Choose the model to train." in response.content.decode()
    plain = alice_client.post(f"/experiments/{experiment.pk}/runs/new/", {"kind": "tune"})
    assert plain.status_code == 422 and "<html" in plain.content.decode()
    assert not Run.objects.exists()


def test_the_run_page_full_and_as_a_polled_fragment(alice_client, experiment):
    run = make_run(experiment, status="running", progress_done=3, progress_total=6)
    RunEvent.objects.create(run=run, seq=1, message="setup <started>")

    full = alice_client.get(f"/runs/{run.pk}/")
    page = full.content.decode()
    assert full.status_code == 200 and "<html" in page
    assert 'id="run-status"' in page and 'hx-trigger="every 2s"' in page
    assert 'max="100" value="50"' in page  # the progress bar, half full
    assert "setup &lt;started&gt;" in page and "<started>" not in page
    assert ">Cancel<" in page

    fragment = alice_client.get(f"/runs/{run.pk}/", **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert 'id="run-status"' in body and "<html" not in body and "every 2s" in body


def test_the_poll_stops_with_286_and_the_final_fragment_when_terminal(alice_client, experiment):
    run = succeeded_run(experiment)
    response = alice_client.get(f"/runs/{run.pk}/", **HTMX)
    assert response.status_code == 286
    body = response.content.decode()
    assert 'id="run-status"' in body and "every 2s" not in body and "<html" not in body
    assert 'id="run-results" class="run-results" hx-swap-oob="true"' in body
    assert 'id="leaderboard"' in body


def test_a_succeeded_run_shows_its_results_escaped(alice_client, experiment):
    run = succeeded_run(experiment)
    page = alice_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'class="highlight"' in page and "0.9100" in page
    assert "&lt;b&gt;Logistic&lt;/b&gt;" in page and "<b>Logistic" not in page
    assert 'id="holdout-metrics"' in page and "0.9300" in page
    assert f'src="/runs/{run.pk}/plots/auc.png"' in page
    assert 'id="environment"' in page and "3.3.2" in page
    assert 'data-slot="explain"' in page and 'data-slot="diagnose"' not in page
    assert ">Re-run<" in page and ">Promote<" in page and ">Cancel<" not in page
    assert "every 2s" not in page


def test_a_metric_pycaret_could_not_compute_shows_a_dash_and_sorts_last(alice_client, experiment):
    run = succeeded_run(experiment)
    run.leaderboard = [
        {"model_id": "knn", "Model": "K Neighbors Classifier", "Accuracy": 0.9429, "AUC": 0.994},
        {"model_id": "lr", "Model": "Logistic Regression", "Accuracy": 0.9427, "AUC": 0.0},
    ]
    run.model_id = "knn"
    run.metrics = {"Model": "Logistic Regression", "Accuracy": 0.95, "AUC": 0.0}
    run.save()
    for response in (
        alice_client.get(f"/runs/{run.pk}/"),
        alice_client.get(f"/runs/{run.pk}/", **HTMX),
    ):
        html = response.content.decode()
        assert "0.0000" not in html  # never shown as a score
        # an empty sort value: runs.js puts such rows last whichever way the column sorts
        assert (
            '<td class="num not-computed" data-value="" title="PyCaret could not compute AUC'
            in html
        )
        assert '<td class="num" data-value="0.994">0.9940</td>' in html
        assert '<span class="not-computed" title="PyCaret could not compute AUC' in html
    assert run.leaderboard[1]["AUC"] == 0.0  # the stored value stays PyCaret's raw one
    api = alice_client.get(f"/api/v1/runs/{run.pk}").json()
    assert api["leaderboard"][1]["AUC"] == 0.0


def test_a_tune_that_kept_the_original_says_so(alice_client, experiment):
    run = succeeded_run(experiment)
    original = {"model_id": "dt", "Model": "Decision Tree Classifier", "F1": 0.9831}
    run.plan = {"kind": "tune", "model_id": "dt", "n_iter": 10, "optimize": "F1"}
    run.leaderboard, run.leaderboard_sort = [original], "F1"
    run.outcome = {
        "tune": {
            "kept_original": True,
            "metric": "F1",
            "original_cv": 0.9831,
            "tuned_cv": 0.9745,
            "original_row": original,
            "tuned_row": {**original, "F1": 0.9745},
            "best_params": {"max_depth": 3},
        }
    }
    run.save()
    page = alice_client.get(f"/runs/{run.pk}/").content.decode()
    fragment = alice_client.get(f"/runs/{run.pk}/", **HTMX).content.decode()
    for html in (page, fragment):
        assert 'data-testid="tune-kept-original"' in html
        assert "original CV 0.9831, tuned 0.9745" in html
        assert "so PyCaret kept the original model" in html
        assert "0.9745</td>" not in html  # the leaderboard shows the original's score
    assert alice_client.get(f"/api/v1/runs/{run.pk}").json()["outcome"]["tune"]["kept_original"]
    assert (
        'data-testid="tune-kept-original"'
        not in alice_client.get(f"/runs/{succeeded_run(experiment).pk}/").content.decode()
    )


def test_a_failed_run_shows_the_error_panel_and_the_diagnose_slot(alice_client, experiment):
    run = make_run(
        experiment,
        status="failed",
        error_category="DATA",
        error_type="DataError",
        error_message="Target 'y' has one class <only>",
        error_traceback="Traceback (most recent call last): ...",
    )
    page = alice_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="run-error"' in page and "DATA" in page
    assert "one class &lt;only&gt;" in page
    assert 'data-slot="diagnose"' in page and "card-danger" in page
    assert 'data-slot="explain"' not in page


def test_an_undispatched_run_says_it_waits_for_the_queue(alice_client, experiment):
    run = make_run(experiment, dispatch_error="The job queue could not be reached.")
    page = alice_client.get(f"/runs/{run.pk}/").content.decode()
    assert "waiting for the queue" in page and "Waiting for the queue:" in page


def test_cancel_from_the_page(alice_client, experiment):
    run = make_run(experiment)
    response = alice_client.post(f"/runs/{run.pk}/cancel/", **HTMX)
    assert response.status_code == 200 and 'id="run-status"' in response.content.decode()
    run.refresh_from_db()
    assert run.status == "cancelled"
    again = alice_client.post(f"/runs/{run.pk}/cancel/", **HTMX)
    assert again.status_code == 409


def test_rerun_from_the_page_redirects_to_the_new_run(alice_client, experiment):
    run = succeeded_run(experiment)
    response = alice_client.post(f"/runs/{run.pk}/rerun/", **HTMX)
    new = Run.objects.exclude(pk=run.pk).get()
    assert response["HX-Redirect"] == f"/runs/{new.pk}/"
    assert new.plan == run.plan


def test_plots_are_served_only_through_the_access_check(alice_client, bob_client, experiment):
    run = succeeded_run(experiment)
    response = alice_client.get(f"/runs/{run.pk}/plots/auc.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert bob_client.get(f"/runs/{run.pk}/plots/auc.png").status_code == 404
    assert alice_client.get(f"/runs/{run.pk}/plots/pr.png").status_code == 404


def test_bob_cannot_see_or_submit_runs_in_alices_project(bob_client, experiment):
    run = succeeded_run(experiment)
    assert bob_client.get(f"/runs/{run.pk}/").status_code == 404
    assert bob_client.get(f"/runs/{run.pk}/", **HTMX).status_code == 404
    assert bob_client.get(f"/experiments/{experiment.pk}/runs/").status_code == 404
    response = bob_client.post(
        f"/experiments/{experiment.pk}/runs/new/", {"kind": "create", "model_id": "lr"}
    )
    assert response.status_code == 404
    assert bob_client.post(f"/runs/{run.pk}/cancel/").status_code == 404
    assert bob_client.post(f"/runs/{run.pk}/rerun/").status_code == 404
    assert Run.objects.count() == 1


def test_the_web_side_of_runs_does_not_import_pycaret():
    code = (
        "import sys, django; django.setup()\n"
        "import engine.views.runs, engine.api.runs, engine.forms, engine.tasks\n"
        "import engine.templatetags.runs, engine.services.runs, pycaret_studio.urls\n"
        "from engine.forms import RunPlanForm\n"
        "assert RunPlanForm(task='classification').fields['models'].choices\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pycaret', 'sklearn'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "pycaret_studio.settings", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
