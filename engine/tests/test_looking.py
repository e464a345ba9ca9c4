"""Looking right: years and ids without thousands separators, an integer input prefilled with
a whole number, "1 row" not "1 rows", side cards at their own height, password help spaced."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.templatetags.fields import help_text
from engine import numbers, serving
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.templatetags.profile_charts import compact_number
from engine.tests.factories import (
    HTMX,
    make_dataset,
    make_experiment,
    make_project,
    make_succeeded_run,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


@pytest.mark.parametrize(
    ("value", "name", "text"),
    [
        (2007, "", "2007"),
        (2008.03, "", "2008.03"),
        (12345, "", "12,345"),
        (5432.123, "price", "5,432"),  # four significant digits, as before
        (123456, "customer_id", "123456"),
        (98765, "Year", "98765"),
        (0.5, "", "0.5"),
    ],
)
def test_years_and_ids_have_no_thousands_separator(value, name, text):
    assert compact_number(value, name) == text


def test_the_dataset_page_prints_years_plainly(alice, alice_client):
    frame = pd.DataFrame({"year": np.arange(2000, 2012), "sales": np.arange(12) * 1500})
    dataset = make_dataset(make_project(alice), frame, name="years.csv")
    page = alice_client.get(reverse("dataset_detail", args=[dataset.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<dd>2000</dd>" in html and "<dd>2011</dd>" in html and "2,000" not in html
    assert "<dd>16,500</dd>" in html  # not a year: still grouped


def test_bob_cannot_see_alices_dataset_page(alice, bob_client):
    frame = pd.DataFrame({"a": range(12), "b": range(12)})
    dataset = make_dataset(make_project(alice), frame, name="a.csv")
    assert bob_client.get(reverse("dataset_detail", args=[dataset.pk])).status_code == 404


def test_an_integer_input_is_prefilled_with_a_whole_number(alice, alice_client):
    serving.cache_clear()
    cache.clear()
    run = make_succeeded_run(alice, "labels")  # `count` is an integer column
    pipeline = pipeline_promote(run=run, user=alice, name="Labels")
    deployment, _ = deployment_deploy(pipeline=pipeline, user=alice, acknowledge_risks=True)
    mean = run.experiment.dataset.column("count")["mean"]
    assert mean % 1  # a mean with decimals...
    from engine.views.deployments import predict_fields

    [count] = [f for f in predict_fields(deployment) if f["name"] == "count"]
    assert (count["value"], count["step"]) == (str(round(mean)), "1")  # ...prefills a whole one
    url = reverse("deployment_detail", args=[deployment.slug])
    for response in (alice_client.get(url), alice_client.get(url, **HTMX)):
        assert response.status_code == 200
        html = response.content.decode()
        assert f'step="1" id="{count["input_name"]}" name="{count["input_name"]}" value="' in html
        assert f'value="{round(mean)}"' in html


def test_counts_take_the_right_number():
    assert numbers.plural(1, "row") == "1 row" and numbers.plural(2, "row") == "2 rows"
    assert numbers.plural(0, "class", "classes") == "0 classes"


def test_a_one_row_class_says_1_row(alice):
    frame = pd.DataFrame({"x": range(40), "label": ["a"] * 36 + ["b"] * 3 + ["c"]})
    experiment = make_experiment(make_dataset(make_project(alice), frame), target="label")
    [warning] = experiment.warnings
    assert "'c' (1 row), 'b' (3 rows)" in warning and "(1 rows)" not in warning


def test_password_help_is_spaced_sentences(client):
    text = help_text("<ul><li>Too short</li><li>Not all digits.</li></ul>")
    assert text == "Too short. Not all digits."
    assert help_text("One line of help.") == "One line of help."
    page = client.get(reverse("accounts:signup"))
    if page.status_code == 200:  # signup may be closed in this configuration
        assert "information.Your" not in page.content.decode()


def test_side_cards_keep_their_own_height():
    css = (Path(__file__).resolve().parents[2] / "static/css/studio.css").read_text()
    block = css.split("/* === h3: trust, plots, deployment page, looking right === */", 1)[1]
    assert ".layout-sidebar > aside" in block and "align-self: start" in block


def test_one_row_with_a_target_reads_1_row_has_and_is_still_a_data_failure():
    from copilots.rules import failures
    from engine.plans import SetupOptions
    from engine.runner.checks import check_inputs
    from engine.runner.errors import DataError

    frame = pd.DataFrame({"x": range(12), "y": [1.0] + [None] * 11})
    with pytest.raises(DataError) as caught:
        check_inputs(data=frame, task="regression", target="y", options=SetupOptions())
    assert str(caught.value).startswith("Only 1 row has a target value")
    assert failures.classify("DataError", str(caught.value))[0] == "DATA"
