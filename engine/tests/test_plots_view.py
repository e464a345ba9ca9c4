"""Plots: alt text and captions that say what each plot is, a lightbox link to the full-size
image, class names on the class plots, and a tuning-history chart for a tune run."""

import html
import shutil
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse

from engine.models import Run
from engine.runner import ListSink, execute_plan
from engine.runner.outputs import plot_kwargs, save_plots, tuning_trials
from engine.templatetags.plots import plot_alt, plot_title, tuning_history_svg
from engine.tests.factories import HTMX, ingested, labels_frame, make_succeeded_run

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.fixture
def run(alice):
    return make_succeeded_run(alice, "labels")


def test_the_run_page_names_each_plot_and_links_it_to_the_lightbox(alice_client, run):
    url = reverse("run_detail", args=[run.pk])
    page = alice_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "js/lightbox.js" in text
    alt = f"Confusion matrix for run #{run.pk} ({run.model_name})"
    assert f'alt="{alt}"' in text and "<figcaption>Confusion matrix</figcaption>" in text
    plot = reverse("run_plot", args=[run.pk, "confusion_matrix"])
    assert f'<a href="{plot}" class="plot-link" data-lightbox data-caption="{alt}">' in text
    fragment = alice_client.get(url, **HTMX).content.decode()  # the last poll's results
    assert "<html" not in fragment and f'alt="{alt}"' in fragment
    image = alice_client.get(plot)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_bob_cannot_see_alices_plots(bob_client, run):
    assert bob_client.get(reverse("run_plot", args=[run.pk, "auc"])).status_code == 404
    assert bob_client.get(reverse("run_detail", args=[run.pk])).status_code == 404


def test_plot_titles_and_alt_text():
    run = SimpleNamespace(pk=3, model_id="lr")
    assert plot_alt("confusion_matrix", run) == "Confusion matrix for run #3 (lr)"
    assert plot_alt("auc", run, "Logistic Regression") == (
        "ROC curves (AUC) for run #3 (Logistic Regression)"
    )
    assert plot_title("some_new_plot") == "Some new plot"


def test_the_class_plots_get_the_class_names(tmp_path):
    """PyCaret draws the confusion matrix on the encoded target (0, 1); the runner passes
    the class names through plot_kwargs, on the installed PyCaret."""
    from engine.tests.factories import pycaret_experiment

    frame = ingested(labels_frame(), tmp_path / "data")
    exp = pycaret_experiment("classification")
    exp.setup(
        frame, target="target", session_id=1, fold=2, verbose=False, html=False, system_log=False
    )
    assert plot_kwargs(exp, "confusion_matrix") == {"classes": ["no", "yes"]}
    assert plot_kwargs(exp, "class_report") == {"classes": ["no", "yes"]}
    assert plot_kwargs(exp, "auc") is None
    model = exp.create_model("lr", verbose=False)
    calls = []
    real = exp.plot_model

    def spy(*args, **kwargs):
        calls.append(kwargs.get("plot_kwargs"))
        return real(*args, **kwargs)

    exp.plot_model = spy
    sink = ListSink()
    saved = save_plots(
        exp,
        model,
        names=["confusion_matrix"],
        work_dir=tmp_path,
        sink=sink,
        progress=SimpleNamespace(step=lambda: None),
    )
    assert saved == [{"name": "confusion_matrix", "filename": "confusion_matrix.png"}]
    assert [c["classes"] for c in calls] == [["no", "yes"]]  # PyCaret adds its own defaults
    assert (tmp_path / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")


# The tuning history.


def test_tuning_trials_come_from_the_tuners_cv_results():
    tuner = SimpleNamespace(cv_results_={"mean_test_score": [0.8, 0.85, float("nan")]})
    assert tuning_trials(tuner, "AUC") == [
        {"trial": 1, "score": 0.8},
        {"trial": 2, "score": 0.85},
        {"trial": 3, "score": None},
    ]
    negated = SimpleNamespace(cv_results_={"mean_test_score": [-3.5, -2.0]})
    assert [t["score"] for t in tuning_trials(negated, "MAE")] == [3.5, 2.0]
    assert tuning_trials(SimpleNamespace(), "AUC") == []


def test_a_tune_run_records_each_trial(tmp_path):
    work_dir = tmp_path / "run"
    frame = ingested(labels_frame(), tmp_path / "data")
    result = execute_plan(
        plan={"kind": "tune", "model_id": "dt", "n_iter": 3},
        data=frame,
        task="classification",
        target="target",
        setup_options={"fold": 2, "session_id": 1},
        work_dir=work_dir,
        sink=ListSink(),
    )
    trials = result.outcome["tune"]["trials"]
    assert [t["trial"] for t in trials] == [1, 2, 3]
    assert all(0 <= t["score"] <= 1 for t in trials)
    shutil.rmtree(work_dir, ignore_errors=True)


def test_the_run_page_draws_the_tuning_history(alice_client, run):
    tune = {
        "metric": "Accuracy",
        "original_cv": 0.8,
        "kept_original": False,
        "trials": [{"trial": 1, "score": 0.79}, {"trial": 2, "score": 0.83}],
    }
    Run.objects.filter(pk=run.pk).update(outcome={"tune": tune}, plan={"kind": "tune"})
    url = reverse("run_detail", args=[run.pk])
    # the full page, and the last poll of the status (286: stop polling)
    for response, status in ((alice_client.get(url), 200), (alice_client.get(url, **HTMX), 286)):
        assert response.status_code == status
        text = response.content.decode()
        assert 'data-testid="tuning-history"' in text and '<svg class="tuning-chart"' in text
        assert "Trial 2: Accuracy 0.8300" in text and "Original model: Accuracy 0.8000" in text
        assert "of each of 2 trials" in text


def test_the_tuning_chart_escapes_the_metric_and_needs_trials():
    assert tuning_history_svg(None) == "" and tuning_history_svg({"trials": []}) == ""
    svg = tuning_history_svg({"metric": "<b>", "trials": [{"trial": 1, "score": 0.5}]}, 7)
    assert "<b>" not in svg and html.escape("<b>") in svg
    assert settings.STATIC_URL  # the chart is drawn on the server: no script, no CDN
