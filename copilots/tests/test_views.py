"""Copilot pages: cards and modals, plain and as HTMX, their tags, escaping, and Apply."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from django.template import Context, Template
from django.test import RequestFactory

from copilots.models import Consultation
from copilots.services import consult
from copilots.tests.factories import (
    HOSTILE_REPLY,
    make_churn_experiment,
    make_deployment,
    make_failed_run,
    make_pipeline,
    make_succeeded_run,
)
from engine.tests.factories import make_experiment

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def experiment(alice):
    return make_churn_experiment(alice)


def approvable_pipeline(experiment):
    """A run no deterministic check objects to: the verdict floor is APPROVE (its experiment
    ignores the ID column, which would be a medium risk as a feature)."""
    experiment = make_experiment(
        experiment.dataset,
        target=experiment.target,
        setup={"ignore_features": ["customer_id"]},
        name="Without the ID",
        user=experiment.created_by,
    )
    run = make_succeeded_run(
        experiment,
        preprocessing={
            "Transformed train set shape": [2100, 6],
            "Imputation type": "simple",
            "Maximum one-hot encoding": 25,
        },
    )
    return make_pipeline(run)


def render_tag(source: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load copilots %}" + source).render(
        Context({"request": request, "csrf_token": "tok", **context})
    )


# Cards.


def test_diagnose_card_get_plain_and_htmx_makes_no_llm_call(alice_client, experiment, llm_server):
    run = make_failed_run(experiment)
    url = f"/copilots/runs/{run.pk}/diagnose/"
    page = alice_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    assert f'id="copilot-failure-debugging-{run.pk}"' in html
    fragment = alice_client.get(url, **HX).content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith(f'<section id="copilot-failure-debugging-{run.pk}"')
    assert "card-danger" in fragment
    assert ">Diagnose</button>" in fragment
    assert llm_server.requests == []
    assert not Consultation.objects.exists()


def test_diagnose_card_post_htmx(alice_client, experiment):
    run = make_failed_run(experiment)
    response = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="copilot-failure-debugging-{run.pk}"' in html
    assert 'hx-indicator="#copilot-failure-debugging-' in html
    assert ">Re-diagnose</button>" in html
    assert 'class="tone-config" data-testid="category">CONFIG</strong>' in html
    assert "Offline analysis" in html
    config = re.search(r'<pre class="copilot-config"[^>]*>(.*?)</pre>', html, re.S).group(1)
    assert "&quot;model_id&quot;: &quot;lr&quot;" in config
    assert '\n  "plan": {' in config.replace("&quot;", '"')  # pretty, indented


def test_diagnose_card_post_plain_is_a_page(alice_client, experiment):
    run = make_failed_run(experiment)
    response = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "Re-diagnose" in html
    assert f'href="/runs/{run.pk}/"' in html


def test_card_tag_label_flips_after_first_use(alice, experiment):
    run = make_failed_run(experiment)
    before = render_tag('{% copilot_card "failure_debugging" run %}', alice, run=run)
    assert ">Diagnose</button>" in before
    assert 'value="tok"' in before  # the form carries the page's CSRF token
    consult(type="failure_debugging", obj=run, user=alice)
    after = render_tag('{% copilot_card "failure_debugging" run %}', alice, run=run)
    assert ">Re-diagnose</button>" in after
    assert "CONFIG" in after


def test_explain_card_rejects_a_failed_run_in_place(alice_client, experiment):
    run = make_failed_run(experiment)
    response = alice_client.post(f"/copilots/runs/{run.pk}/explain/", **HX)
    assert response.status_code == 400
    assert "only a succeeded run can be explained" in response.content.decode()


def test_explain_and_drift_cards(alice_client, experiment):
    run = make_succeeded_run(experiment)
    html = alice_client.post(f"/copilots/runs/{run.pk}/explain/", **HX).content.decode()
    assert f'id="copilot-run-explanation-{run.pk}"' in html and "Explain again" in html
    deployment = make_deployment(make_pipeline(run))
    url = f"/copilots/deployments/{deployment.pk}/drift/"
    assert ">Analyze drift</button>" in alice_client.get(url, **HX).content.decode()
    html = alice_client.post(url, **HX).content.decode()
    assert f'id="copilot-drift-analysis-{deployment.pk}"' in html
    assert "no drift report" in html.lower()


# Modals.


def test_review_modal_tag_fires_on_open(alice, experiment):
    pipeline = approvable_pipeline(experiment)
    html = render_tag('{% copilot_modal "deployment_review" pipeline %}', alice, pipeline=pipeline)
    assert "<dialog" in html
    assert ">✨ Review</button>" in html
    body = re.search(r"<div id=\"copilot-deployment-review-\d+-body\"[^>]*>", html, re.S).group(0)
    assert 'hx-trigger="copilot-open"' in body
    assert f'hx-post="/copilots/pipelines/{pipeline.pk}/review/"' in body
    assert 'hx-indicator="#copilot-deployment-review-' in body
    assert "<script" not in html  # the base page loads copilots.js once
    assert not Consultation.objects.exists()  # rendering the page asks nothing


def test_review_modal_plain_and_htmx(alice_client, experiment):
    pipeline = approvable_pipeline(experiment)
    url = f"/copilots/pipelines/{pipeline.pk}/review/"
    fragment = alice_client.post(url, **HX).content.decode()
    assert "<html" not in fragment
    assert f'id="copilot-deployment-review-{pipeline.pk}-result"' in fragment
    assert 'class="copilot-verdict text-success-500"' in fragment
    page = alice_client.post(url).content.decode()
    assert "<html" in page and "copilot-verdict" in page
    assert f'href="/pipelines/{pipeline.pk}/"' in page
    modal = alice_client.get(url, **HX).content.decode()
    assert "<dialog" in modal and "<html" not in modal


@pytest.mark.parametrize(
    "verdict, tone",
    [
        ("APPROVE", "text-success-500"),
        ("APPROVE WITH CAVEATS: watch drift", "text-warn-500"),
        ("DO NOT DEPLOY: too risky", "text-danger-500"),
    ],
)
def test_verdict_tone_classes_in_the_dom(verdict, tone, alice_client, experiment, llm_server):
    pipeline = approvable_pipeline(experiment)
    llm_server.reply({"verdict": verdict, "reasoning_summary": "Reviewed."})
    html = alice_client.post(f"/copilots/pipelines/{pipeline.pk}/review/", **HX).content.decode()
    assert f'<p class="copilot-verdict {tone}" data-testid="verdict"><strong>{verdict}' in html


def test_overfit_gets_the_danger_tone_even_if_the_llm_approves(
    alice_client, experiment, llm_server
):
    leaderboard = [
        {"model_id": "dt", "Model": "Decision Tree Classifier", "Accuracy": 1.0},
        {"model_id": "lr", "Model": "Logistic Regression", "Accuracy": 0.8},
    ]
    run = make_succeeded_run(experiment, leaderboard=leaderboard, metrics={"Accuracy": 1.0})
    pipeline = make_pipeline(run)
    llm_server.reply({"verdict": "APPROVE", "reasoning_summary": "Ship it."})
    html = alice_client.post(f"/copilots/pipelines/{pipeline.pk}/review/", **HX).content.decode()
    assert (
        '<p class="copilot-verdict text-danger-500" data-testid="verdict"><strong>DO NOT DEPLOY'
        in html
    )
    assert "text-success-500" not in html


def test_dataset_modals(alice_client, alice, experiment):
    dataset = experiment.dataset
    html = render_tag(
        '{% copilot_modal "dataset_analysis" dataset %}{% copilot_modal "experiment_design" dataset %}',
        alice,
        dataset=dataset,
    )
    assert html.count("<dialog") == 2
    assert ">Analyze</button>" in html and ">Design experiment</button>" in html
    assert 'name="goal"' in html
    fragment = alice_client.post(f"/copilots/datasets/{dataset.pk}/analyze/", **HX).content.decode()
    assert f'id="copilot-dataset-analysis-{dataset.pk}-result"' in fragment
    assert "ID-like columns" in fragment
    fragment = alice_client.post(
        f"/copilots/datasets/{dataset.pk}/design/", {"goal": "predict churn"}, **HX
    ).content.decode()
    assert f'id="copilot-experiment-design-{dataset.pk}-result"' in fragment
    assert 'hx-target="#experiment-form"' in fragment
    assert ">Apply</a>" in fragment
    assert Consultation.objects.get(type="experiment_design").dataset == dataset
    # The suggestion reads as the settings it would apply; the JSON sits behind a toggle.
    settings_list = fragment[fragment.index('data-testid="suggested-settings"') :]
    settings_list = settings_list[: settings_list.index("</dl>")]
    assert "<dt>Task</dt><dd>classification</dd>" in settings_list
    assert "<dt>Target</dt><dd>churn</dd>" in settings_list
    assert "<dt>Options</dt><dd>ignore_features = customer_id, country; fold = 5;" in settings_list
    assert "<dt>First plan</dt><dd>compare PyCaret&#x27;s default models, sorted by" in (
        settings_list
    )
    assert fragment.index('data-testid="suggested-settings"') < fragment.index(">Apply</a>")
    raw = fragment[fragment.index('<details class="copilot-config-raw">') :]
    assert raw.index("<summary>Raw configuration (JSON)</summary>") < raw.index(
        'data-testid="suggested-config"'
    )
    assert "&quot;target&quot;: &quot;churn&quot;" in raw
    assert "<script" not in fragment and " onclick=" not in fragment


def test_viewer_sees_no_apply(alice, bob, bob_client, experiment):
    from accounts.tests.factories import add_member, workspace_of

    add_member(workspace_of(alice), bob, "viewer")
    html = bob_client.post(
        f"/copilots/datasets/{experiment.dataset_id}/design/", **HX
    ).content.decode()
    assert "suggested-config" in html
    assert ">Apply</a>" not in html


# Escaping.


@pytest.mark.parametrize("route", ["runs/{failed}/diagnose/", "pipelines/{pipeline}/review/"])
def test_hostile_llm_output_is_escaped(route, alice_client, experiment, llm_server):
    ids = {
        "failed": make_failed_run(experiment).pk,
        "pipeline": approvable_pipeline(experiment).pk,
    }
    llm_server.reply(HOSTILE_REPLY)
    html = alice_client.post("/copilots/" + route.format(**ids), **HX).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>bold</b>" not in html
    assert "<a href='https://evil.example'>" not in html
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_history_tag_lists_past_consultations(alice, experiment, llm_server, settings):
    run = make_failed_run(experiment)
    llm_server.reply(HOSTILE_REPLY)
    consult(type="failure_debugging", obj=run, user=alice)
    settings.COPILOT_MODEL = ""
    consult(type="failure_debugging", obj=run, user=alice)
    html = render_tag("{% copilot_history run %}", alice, run=run)
    assert html.count("Failure debugging") == 2
    assert "Offline analysis" in html and "openai/test-model" in html
    assert "<script>" not in html


# Access.


@pytest.mark.parametrize(
    "route",
    [
        "datasets/{dataset}/analyze/",
        "datasets/{dataset}/design/",
        "runs/{succeeded}/explain/",
        "runs/{failed}/diagnose/",
        "pipelines/{pipeline}/review/",
        "deployments/{deployment}/drift/",
    ],
)
def test_bob_gets_404_on_alices_copilots(route, bob_client, experiment):
    succeeded = make_succeeded_run(experiment)
    pipeline = make_pipeline(succeeded)
    ids = {
        "dataset": experiment.dataset_id,
        "succeeded": succeeded.pk,
        "failed": make_failed_run(experiment).pk,
        "pipeline": pipeline.pk,
        "deployment": make_deployment(pipeline).pk,
    }
    url = "/copilots/" + route.format(**ids)
    assert bob_client.post(url, **HX).status_code == 404
    assert bob_client.get(url).status_code == 404
    assert not Consultation.objects.exists()


def test_pages_need_login(client, experiment):
    run = make_failed_run(experiment)
    response = client.post(f"/copilots/runs/{run.pk}/diagnose/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]


def test_throttled_card_says_so(alice_client, experiment, settings):
    settings.COPILOT_THROTTLE_PER_MINUTE = 1
    run = make_failed_run(experiment)
    assert alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX).status_code == 200
    response = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX)
    assert response.status_code == 429
    assert "Too many copilot calls" in response.content.decode()


# Apply.


def test_apply_prefills_the_experiment_form(alice_client, alice, experiment):
    consultation = consult(type="experiment_design", obj=experiment.dataset, user=alice)
    url = f"/copilots/consultations/{consultation.pk}/apply/"
    fragment = alice_client.get(url, **HX).content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section class="card" id="experiment-form"')
    assert f'action="/datasets/{experiment.dataset_id}/experiments/new/"' in fragment
    assert re.search(r'<option value="churn" selected>', fragment)
    assert re.search(r'<option value="customer_id" selected>', fragment)  # ignore_features
    assert 'name="fold" value="5"' in fragment
    assert 'name="session_id" value="123"' in fragment
    page = alice_client.get(url).content.decode()
    assert "<html" in page and 'id="experiment-form"' in page
    assert Consultation.objects.count() == 1  # applying asks nothing and creates nothing
    from engine.models import Experiment

    assert Experiment.objects.count() == 1


def test_apply_then_submit_creates_the_experiment(alice_client, alice, experiment):
    from engine.models import Experiment

    consultation = consult(type="experiment_design", obj=experiment.dataset, user=alice)
    config = consultation.advice["suggested_config"]["experiment"]
    response = alice_client.post(
        f"/datasets/{experiment.dataset_id}/experiments/new/",
        {
            "name": config["name"],
            "task": config["task"],
            "target": config["target"],
            "fold": config["setup"]["fold"],
            "session_id": config["setup"]["session_id"],
            "ignore_features": config["setup"]["ignore_features"],
        },
    )
    assert response.status_code == 302
    created = Experiment.objects.get(name=config["name"])
    assert created.setup_options["ignore_features"] == ["customer_id", "country"]


def test_apply_is_scoped(bob_client, alice, experiment):
    consultation = consult(type="experiment_design", obj=experiment.dataset, user=alice)
    assert bob_client.get(f"/copilots/consultations/{consultation.pk}/apply/").status_code == 404
    debug = consult(type="failure_debugging", obj=make_failed_run(experiment), user=alice)
    assert bob_client.get(f"/copilots/consultations/{debug.pk}/apply-plan/").status_code == 404


def test_diagnosis_of_a_continuous_target_offers_a_regression_experiment(alice, alice_client):
    import numpy as np

    from engine.tests.factories import make_dataset, make_project

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"size": rng.normal(50, 10, 200), "rooms": rng.integers(1, 6, 200)})
    frame["price"] = (frame["size"] * 3.1 + rng.normal(0, 5, 200)).round(2)
    dataset = make_dataset(make_project(alice, name="Houses"), frame, name="houses.csv")
    experiment = make_experiment(dataset, target="price", name="Price class", user=alice)
    assert experiment.warnings[0].startswith("The target 'price' looks continuous")
    run = make_failed_run(
        experiment,
        plan={"kind": "compare", "sort": "AUC"},
        message="Target column 'price' looks continuous (200 distinct decimal values); use a "
        "regression experiment, or bin the target into classes",
    )
    card = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX).content.decode()
    assert "looks continuous" in card and "use a regression experiment" in card
    assert "The experiment warned when it was created" in card  # its own warning, used
    assert "<dt>Task</dt><dd>regression</dd>" in card and "<dt>Target</dt><dd>price</dd>" in card
    consultation = Consultation.objects.get(type="failure_debugging")
    apply_url = f"/copilots/consultations/{consultation.pk}/apply/"
    assert f'href="{apply_url}"' in card
    assert consultation.advice["suggested_config"]["plan"] == {"kind": "compare", "n_select": 1}
    form = alice_client.get(apply_url).content.decode()
    assert '<option value="regression" selected>' in form
    assert '<option value="price" selected>' in form


def test_diagnosis_of_an_unknown_model_offers_the_corrected_plan(alice, alice_client, experiment):
    run = make_failed_run(experiment, plan={"kind": "tune", "model_id": "rff", "n_iter": 5})
    card = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX).content.decode()
    assert "<dt>Corrected plan</dt><dd>tune rf (5 iterations)</dd>" in card
    consultation = Consultation.objects.get(type="failure_debugging")
    url = f"/copilots/consultations/{consultation.pk}/apply-plan/"
    assert f'href="{url}"' in card
    page = alice_client.get(url).content.decode()
    assert "<html" in page and 'id="new-run"' in page
    assert '<option value="tune" selected>' in page
    assert '<option value="rf" selected>' in page
    assert 'name="n_iter" value="5"' in page
    fragment = alice_client.get(url, **HX).content.decode()
    assert "<html" not in fragment and 'id="new-run"' in fragment
    assert consultation.run.experiment.runs.count() == 1  # applying runs nothing


# On the object pages themselves.


def test_dataset_page_has_both_modals_and_asks_nothing(alice_client, experiment, llm_server):
    html = alice_client.get(f"/datasets/{experiment.dataset_id}/").content.decode()
    assert f'id="copilot-dataset-analysis-{experiment.dataset_id}-dialog"' in html
    assert f'id="copilot-experiment-design-{experiment.dataset_id}-dialog"' in html
    assert 'id="experiment-form"' in html  # where Apply swaps its form
    assert html.count('src="/static/js/copilots.js"') == 1  # once, from the base page
    assert llm_server.requests == []
    assert not Consultation.objects.exists()


def test_llm_failure_is_labelled_offline_on_the_card(alice_client, experiment, llm_server):
    run = make_failed_run(experiment)
    llm_server.fail(500)
    response = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="copilot-source">Offline analysis</span>' in html
    assert "the LLM was unavailable (server error)" in html
    assert "CONFIG" in html


def test_pipeline_page_has_the_review_modal_and_asks_nothing(alice_client, experiment, llm_server):
    pipeline = approvable_pipeline(experiment)
    html = alice_client.get(f"/pipelines/{pipeline.pk}/").content.decode()
    slot = html[html.index('id="review-slot"') :]
    assert f'id="copilot-deployment-review-{pipeline.pk}-dialog"' in slot
    assert ">✨ Review</button>" in slot
    assert llm_server.requests == []
    assert not Consultation.objects.exists()


def test_deployment_page_has_the_drift_card_and_asks_nothing(alice_client, experiment, llm_server):
    deployment = make_deployment(approvable_pipeline(experiment))
    page = alice_client.get(f"/deployments/{deployment.slug}/").content.decode()
    slot = page[page.index('id="drift-analyst-slot"') :]
    assert f'id="copilot-drift-analysis-{deployment.pk}"' in slot
    assert ">Analyze drift</button>" in slot
    refreshed = alice_client.get(f"/deployments/{deployment.slug}/drift/", **HX).content.decode()
    assert f'id="copilot-drift-analysis-{deployment.pk}"' in refreshed
    assert llm_server.requests == []
    assert not Consultation.objects.exists()


def test_run_pages_have_their_cards_and_ask_nothing(alice_client, experiment, llm_server):
    failed, succeeded = make_failed_run(experiment), make_succeeded_run(experiment)
    page = alice_client.get(f"/runs/{failed.pk}/").content.decode()
    assert f'id="copilot-failure-debugging-{failed.pk}"' in page
    assert ">Diagnose</button>" in page and "copilot-run-explanation" not in page
    page = alice_client.get(f"/runs/{succeeded.pk}/").content.decode()
    assert f'id="copilot-run-explanation-{succeeded.pk}"' in page
    assert ">Explain</button>" in page and "copilot-failure-debugging" not in page
    # the run page's last poll swaps the results in, card included
    final = alice_client.get(f"/runs/{failed.pk}/", **HX)
    assert final.status_code == 286
    assert f'id="copilot-failure-debugging-{failed.pk}"' in final.content.decode()
    assert llm_server.requests == []
    assert not Consultation.objects.exists()
