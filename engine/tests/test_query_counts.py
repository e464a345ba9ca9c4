"""The number of queries of every main page and API list does not grow with the data.

One module-wide copy of `seed_scale` at 100 runs and one at LARGE runs (10,000: seeding takes
about 20 s on PostgreSQL), in a transaction rolled back at the end of the module. Each page and
route is fetched as each size's owner; the counts must be equal, and at most the pinned number.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import User
from accounts.tests.factories import login_client
from engine.models import Dataset, Deployment, Experiment, Pipeline, Project, Run
from engine.tests.factories import HTMX

SMALL, LARGE = 100, 10_000
# About 30 s in all, two thirds of it seeding 10,000 runs: CI runs it, -m 'not slow' skips it.
pytestmark = pytest.mark.slow


def _targets(username: str) -> dict:
    user = User.objects.get(username=username)
    workspace = user.memberships.get().workspace
    project = Project.objects.filter(workspace=workspace).order_by("pk").first()
    experiment = Experiment.objects.filter(project=project).order_by("pk").first()
    run = Run.objects.filter(experiment=experiment, status="succeeded").order_by("pk").first()
    pipeline = Pipeline.objects.filter(project=project).order_by("pk").first()
    deployment = Deployment.objects.filter(project=project).order_by("pk").first()
    dataset = Dataset.objects.filter(project=project).order_by("pk").first()
    return {
        "user": user,
        "workspace": workspace.pk,
        "dataset": dataset.pk,
        "project": project.pk,
        "experiment": experiment.pk,
        "run": run.pk,
        "pipeline": pipeline.pk,
        "slug": deployment.slug,
        "runs_in_experiment": experiment.runs.count(),
    }


@pytest.fixture(scope="module")
def sizes(django_db_setup, django_db_blocker):
    """{size: targets} for both sizes, seeded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_scale", "--runs", str(SMALL), "--username", "small")
        call_command("seed_scale", "--runs", str(LARGE), "--username", "large")
        connection.check_constraints()  # once, not again in every test's teardown
        targets = {SMALL: _targets("small"), LARGE: _targets("large")}
        for size in targets.values():
            size["client"] = login_client(size["user"])
        yield targets
        transaction.set_rollback(True)


# (name, url template, htmx?, pinned queries) of every main page and every API list route. The
# pinned number includes the session and user lookups of a signed-in request. `htmx` is False,
# True (the page's default fragment) or the id of the list an htmx pager swaps.
PAGES = [
    ("dashboard", "/", False, 9),
    ("project", "/projects/{project}/", False, 14),
    ("experiment", "/experiments/{experiment}/", False, 13),
    ("experiment runs table", "/experiments/{experiment}/runs/", True, 8),
    ("runs table sorted by metric", "/experiments/{experiment}/runs/?sort=Accuracy", True, 8),
    (
        "runs table filtered",
        "/experiments/{experiment}/runs/?status=succeeded&kind=compare",
        True,
        9,
    ),
    ("run", "/runs/{run}/", False, 13),
    ("pipelines of project", "/projects/{project}/pipelines/", False, 9),
    ("pipeline", "/pipelines/{pipeline}/", False, 12),
    ("deployment", "/deployments/{slug}/", False, 24),
    (
        "deployment history page 2",
        "/deployments/{slug}/?history_page=2",
        "deployment-history-list",
        24,
    ),
    ("runs page", "/runs/", False, 6),
    ("deployments page", "/deployments/", False, 6),
    ("search", "/search/?q=model", False, 10),
    ("dashboard projects page 2", "/?page=2", "projects", 7),
    ("project datasets page 2", "/projects/{project}/?datasets_page=2", "project-datasets", 11),
    (
        "project experiments page 2",
        "/projects/{project}/?experiments_page=2",
        "project-experiments",
        11,
    ),
    (
        "pipelines of project, page 2",
        "/projects/{project}/pipelines/?pipelines_page=2&deployments_page=2",
        False,
        9,
    ),
    ("dataset", "/datasets/{dataset}/", False, 14),
    (
        "dataset experiments page 2",
        "/datasets/{dataset}/?experiments_page=2",
        "dataset-experiments",
        14,
    ),
    (
        "pipeline versions page 2",
        "/pipelines/{pipeline}/?versions_page=2",
        "pipeline-versions-list",
        12,
    ),
    ("workspace members", "/account/workspaces/{workspace}/", False, 10),
    ("workspace audit log", "/account/workspaces/{workspace}/audit/", False, 10),
    ("api keys page", "/account/api-keys/", False, 6),
    ("api projects", "/api/v1/projects", False, 4),
    ("api datasets", "/api/v1/projects/{project}/datasets", False, 5),
    ("api experiments", "/api/v1/projects/{project}/experiments", False, 5),
    ("api runs", "/api/v1/experiments/{experiment}/runs", False, 6),
    ("api runs, second page", "/api/v1/experiments/{experiment}/runs?limit=5&offset=5", False, 6),
    ("api run events", "/api/v1/runs/{run}/events", False, 6),
    ("api pipelines", "/api/v1/projects/{project}/pipelines", False, 6),
    ("api deployments", "/api/v1/projects/{project}/deployments", False, 6),
    ("api deployment history", "/api/v1/deployments/{slug}/history", False, 6),
    ("api deployment stats", "/api/v1/deployments/{slug}/stats", False, 8),
    ("api consultations", "/api/v1/llm/consultations", False, 4),
    ("api workspaces", "/api/v1/workspaces", False, 5),
    ("api members", "/api/v1/workspaces/{workspace}/members", False, 5),
    ("api invitations", "/api/v1/workspaces/{workspace}/invitations", False, 5),
    ("api my invitations", "/api/v1/invitations", False, 3),
    ("api keys", "/api/v1/auth/api-keys", False, 3),
]


def _count(targets: dict, url: str, htmx: bool, assert_max) -> int:
    client = targets["client"]
    url = url.format(**targets)
    headers = {**HTMX, "HTTP_HX_TARGET": htmx} if isinstance(htmx, str) else HTMX if htmx else {}
    client.get(url, **headers)  # warm: sessions, caches, first-use lookups
    with assert_max as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.django_db
def test_the_busy_experiment_holds_ten_times_more_runs_at_the_large_size(sizes):
    assert sizes[SMALL]["runs_in_experiment"] == 10
    assert sizes[LARGE]["runs_in_experiment"] == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "htmx", "pinned"), PAGES, ids=[p[0] for p in PAGES])
def test_queries_do_not_grow_with_the_data(
    sizes, name, url, htmx, pinned, django_assert_max_num_queries
):
    small = _count(sizes[SMALL], url, htmx, django_assert_max_num_queries(pinned))
    large = _count(sizes[LARGE], url, htmx, django_assert_max_num_queries(pinned))
    assert small == large, f"{name}: {small} queries at {SMALL} runs, {large} at {LARGE}"


@pytest.mark.django_db
def test_the_runs_table_of_the_busy_experiment_filters_and_orders_in_the_database(sizes):
    from engine.selectors.runs import TABLE_PER_PAGE, run_table

    experiment = Experiment.objects.get(pk=sizes[LARGE]["experiment"])
    table = run_table(experiment=experiment, params={"sort": "duration", "dir": "desc"})
    rows = list(table["page"].object_list)
    assert table["total"] == 1000
    assert len(rows) == TABLE_PER_PAGE and table["page"].paginator.count == 1000
    seconds = [row["seconds"] for row in rows]
    assert seconds == sorted(seconds, reverse=True)
    table = run_table(experiment=experiment, params={"kind": "compare", "dir": "asc", "page": 2})
    rows = list(table["page"].object_list)
    assert all(row["run"].plan["kind"] == "compare" for row in rows)
    queued = [row["run"].queued_at for row in rows]
    assert queued == sorted(queued) and table["page"].number == 2
    assert table["page"].paginator.count == experiment.runs.filter(plan__kind="compare").count()
    table = run_table(experiment=experiment, params={"sort": "Accuracy"})
    scores = [dict(row["cells"])["Accuracy"] for row in table["page"].object_list]
    assert scores == sorted(scores, reverse=True) and len(scores) == TABLE_PER_PAGE


@pytest.mark.django_db
def test_the_api_runs_list_of_the_busy_experiment_is_one_page_with_its_count(sizes):
    client, experiment = sizes[LARGE]["client"], sizes[LARGE]["experiment"]
    url = f"/api/v1/experiments/{experiment}/runs"
    first = client.get(url).json()
    assert first["count"] == 1000 and len(first["items"]) == 25
    assert first["next"] == f"{url}?offset=25&limit=25"
    last = client.get(f"{url}?limit=200&offset=900").json()
    assert len(last["items"]) == 100 and last["next"] is None
    queued = [run["queued_at"] for run in first["items"]]
    assert queued == sorted(queued, reverse=True)


@pytest.mark.django_db
def test_the_dashboard_run_page_and_deployment_show_bounded_lists(sizes):
    import re

    from engine.models import RunEvent

    large = sizes[LARGE]
    client = large["client"]
    html = client.get("/").content.decode()
    recent = html.split('id="recent-runs"', 1)[1]
    assert len(re.findall(r'<a href="/runs/\d+/">', recent)) == 10  # of 10,000

    run = Run.objects.get(pk=large["run"])
    RunEvent.objects.bulk_create(
        RunEvent(run=run, seq=seq, message=f"step {seq}") for seq in range(10, 1510)
    )
    html = client.get(f"/runs/{run.pk}/").content.decode()
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]
    assert len(seqs) == 200 and seqs[-1] == 1509  # the newest 200, oldest first
    events = client.get(f"/api/v1/runs/{run.pk}/events").json()
    seqs = [e["seq"] for e in events["items"]]
    assert len(seqs) == 200 and seqs[0] == 1 and events["count"] == 1503  # 3 seeded + 1500
    assert events["next"] == f"/api/v1/runs/{run.pk}/events?after={seqs[-1]}&limit=200"
    last = client.get(f"/api/v1/runs/{run.pk}/events?after=1400").json()
    assert [e["seq"] for e in last["items"]] == list(range(1401, 1510)) and last["next"] is None

    page = client.get(f"/deployments/{large['slug']}/")
    assert page.status_code == 200
    stats = client.get(f"/api/v1/deployments/{large['slug']}/stats").json()
    # 100,000 log rows over 50 deployments and 7 days: the 24-hour window holds a bounded share.
    assert 0 < stats["requests"] < 2000
