"""The evaluation set: the offline scorecard passes every case, `manage.py copilot_eval` prints
it (and an LLM pass when COPILOT_MODEL is set), and a hostile LLM that answers APPROVE with
markup to everything moves no verdict below its floor and no category off the runner's."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from copilots.evals import CASES
from copilots.evals.harness import COPILOTS, run_cases, scorecard
from copilots.models import Consultation
from copilots.services import consult
from copilots.tests import llm_server as loopback
from copilots.tests.factories import (
    make_churn_experiment,
    make_failed_run,
    make_pipeline,
    make_succeeded_run,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]

HOSTILE = {
    "reasoning_summary": "APPROVE <script>alert('summary')</script> all is well",
    "recommendations": ["<img src=x onerror=alert(1)> Ship it now"],
    "verdict": "APPROVE <b onmouseover=alert(2)>looks great</b>",
    "category": "ENGINE",
    "suggested_config": {"plan": {"kind": "create", "model_id": "<script>x</script>"}},
}
# Every risk the rule book can find in a trained model (names as they open).
MODEL_RISKS = {
    "leakage suspect",
    "ID-like feature in the model",
    "overfit: perfect cross-validation score",
    "overfit: holdout far below cross-validation",
    "tiny margin over the runner-up",
    "small training sample",
    "few rows per feature",
    "no imputer for missing values",
    "no encoder for categorical features",
    "preprocessing unknown",
    "imputation unknown",
    "encoding unknown",
    "sort metric does not fit an imbalanced target",
    "version skew",
    "training environment unknown",
}


@pytest.fixture
def hostile_llm(llm_server, monkeypatch):
    """The loopback server answering APPROVE, with markup, to every request."""
    monkeypatch.setattr(loopback, "DEFAULT_REPLY", json.dumps(HOSTILE))
    return llm_server


def test_the_offline_scorecard_passes_every_case():
    results, seconds = run_cases(CASES)
    card = scorecard(results, title="Offline", seconds=seconds)
    assert all(r.passed for r in results), card
    assert len(CASES) >= 30
    per_copilot = {c: sum(r.case.copilot == c for r in results) for c in COPILOTS}
    assert min(per_copilot.values()) >= 4, per_copilot
    assert not Consultation.objects.exists()  # the evaluation keeps nothing


def test_the_command_prints_a_scorecard_per_copilot():
    out = io.StringIO()
    call_command("copilot_eval", "-k", "penguins", stdout=out)
    text = out.getvalue()
    assert text.startswith("Offline (3 cases, ")
    assert "  dataset_analysis    1/1  passed" in text
    assert "  experiment_design   1/1  passed" in text
    assert "  run_explanation     1/1  passed" in text
    assert "  all                 3/3  passed" in text
    assert "LLM" not in text  # no COPILOT_MODEL here


def test_a_miss_is_printed_with_expected_and_actual():
    from copilots.evals.harness import Case, Result

    case = Case("a made-up case", "deployment_review", lambda env: None, {"verdict": "APPROVE"})
    miss = Result(case, actual={"verdict": "DO NOT DEPLOY"})
    miss.misses = [("verdict", "APPROVE", "DO NOT DEPLOY")]
    card = scorecard([miss], title="Offline", seconds=1.0)
    assert "deployment_review   0/1  passed" in card
    assert "MISS a made-up case: verdict: expected 'APPROVE', actual 'DO NOT DEPLOY'" in card


def test_with_a_model_configured_the_command_also_scores_the_llm_path(llm_server):
    out = io.StringIO()
    call_command("copilot_eval", "--copilot", "failure_debugging", "-k", "old row", stdout=out)
    text = out.getvalue()
    assert "Offline (2 cases" in text
    assert "LLM openai/test-model (2 cases" in text
    assert text.count("failure_debugging   2/2  passed") == 2
    assert len(llm_server.requests) == 2  # the LLM pass really asked the model


def test_a_hostile_llm_cannot_move_a_verdict_below_its_floor_nor_a_category(hostile_llm):
    gated = [c for c in CASES if c.copilot in ("deployment_review", "failure_debugging")]
    results, seconds = run_cases(gated, llm=True)
    card = scorecard(results, title="Hostile LLM", seconds=seconds)
    assert all(r.passed for r in results), card
    assert len(hostile_llm.requests) >= len(gated)  # every case went through the LLM
    found = {
        name for r in results if r.case.copilot == "deployment_review" for name in r.actual["risks"]
    }
    covered = {known for known in MODEL_RISKS if any(n.startswith(known) for n in found)}
    assert covered == MODEL_RISKS  # every risk the rule book knows held its floor


def test_a_hostile_llm_renders_escaped_on_the_pages(alice, alice_client, hostile_llm):
    experiment = make_churn_experiment(alice)
    succeeded, failed = make_succeeded_run(experiment), make_failed_run(experiment)
    pipeline = make_pipeline(succeeded)
    explain = consult(type="run_explanation", obj=succeeded, user=alice)
    debug = consult(type="failure_debugging", obj=failed, user=alice)
    assert not explain.offline and not debug.offline
    assert debug.advice["category"] == "CONFIG"  # the runner's, not the LLM's ENGINE
    review = alice_client.post(
        f"/copilots/pipelines/{pipeline.pk}/review/", HTTP_HX_REQUEST="true"
    ).content.decode()
    pages = [
        alice_client.get(f"/runs/{succeeded.pk}/").content.decode(),
        alice_client.get(f"/runs/{failed.pk}/").content.decode(),
        review,
    ]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "<b onmouseover" not in html
        assert "&lt;script&gt;alert(&#x27;summary&#x27;)&lt;/script&gt;" in html
    assert "DO NOT DEPLOY: small training sample" in review  # the floor, not the LLM's APPROVE
    assert "&lt;script&gt;x&lt;/script&gt;" not in pages[1]  # an invalid plan is never shown


def test_an_llms_own_wording_of_the_target_is_read():
    from copilots.evals.harness import _stated_target

    class Dataset:
        column_names = ["species", "island", "year", "target"]

    said = "Palmer penguins. The likely target is species (3 classes): a classification task."
    assert _stated_target(said, Dataset) == ("species", "classification")
    assert _stated_target("Predict the 'target' column: regression.", Dataset) == (
        "target",
        "regression",
    )
    assert _stated_target("Looks fine to me.", Dataset) == (None, None)
