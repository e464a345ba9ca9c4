"""The dashboard's per-project counts: right, and read as one correlated count per listed project
through the foreign key's index, never by joining every dataset to every experiment."""

import re

import pytest
from django.test import RequestFactory

from engine.selectors.projects import project_list
from engine.tests.factories import (
    HTMX,
    iris_features_frame,
    make_dataset,
    make_experiment,
    make_project,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(alice):
    busy = make_project(alice, name="Busy")
    datasets = [make_dataset(busy, iris_features_frame(), name=f"d{i}.csv") for i in range(3)]
    for i in range(2):
        make_experiment(datasets[0], task="regression", name=f"e{i}")
    empty = make_project(alice, name="Empty")
    return busy, empty


def counts_in(html: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(
        r'<a href="/projects/\d+/">([^<]+)</a>.*?<td class="num">(\d+)</td>\s*'
        r'<td class="num">(\d+)</td>',
        html,
        flags=re.S,
    )
    return {name: (int(d), int(e)) for name, d, e in rows}


def test_the_dashboard_counts_datasets_and_experiments_per_project(alice_client, projects):
    page = alice_client.get("/")
    assert page.status_code == 200
    counts = counts_in(page.content.decode())
    assert counts["Busy"] == (3, 2) and counts["Empty"] == (0, 0)
    fragment = alice_client.get("/", **HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert counts_in(fragment.content.decode())["Busy"] == (3, 2)
    api = {p["name"]: p for p in alice_client.get("/api/v1/projects").json()["items"]}
    assert (api["Busy"]["n_datasets"], api["Busy"]["n_experiments"]) == (3, 2)


def test_the_counts_join_no_child_table(alice, projects):
    request = RequestFactory().get("/")
    request.user = alice
    sql = str(project_list(request=request).query)
    assert 'JOIN "engine_dataset"' not in sql and 'JOIN "engine_experiment"' not in sql
    assert sql.count("COUNT(") == 2  # one correlated count each
