"""Finding things: the top bar, the Runs and Deployments pages, search, the project page's
pipelines and deployments, one breadcrumb trail and one name per run."""

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import add_member, workspace_of
from engine.models import Deployment, Experiment, Pipeline, Run
from engine.tests.factories import HTMX, make_dataset, make_project

pytestmark = pytest.mark.django_db


def make_chain(user, name="Churn"):
    """project → dataset → experiment → succeeded run → pipeline → deployment, as rows only."""
    project = make_project(user, name=name)
    dataset = make_dataset(project, pd.DataFrame({"x": range(20), "y": [0, 1] * 10}), user=user)
    experiment = Experiment.objects.create(
        project=project, dataset=dataset, name=f"{name} exp", task="classification", target="y"
    )
    now = timezone.now()
    run = Run.objects.create(
        experiment=experiment,
        plan={"kind": "create", "model_id": "lr"},
        status="succeeded",
        started_at=now,
        finished_at=now,
        model_id="lr",
        model_name="Logistic Regression",
        created_by=user,
    )
    pipeline = Pipeline.objects.create(
        project=project,
        name=f"{name} model",
        version=1,
        origin_run=run,
        task="classification",
        target="y",
        model_id="lr",
        artifact_path="nowhere.pkl",
        artifact_sha256="0" * 64,
    )
    deployment = Deployment.objects.create(
        project=project, slug=f"{name.lower()}-endpoint", pipeline=pipeline
    )
    return {
        "project": project,
        "dataset": dataset,
        "experiment": experiment,
        "run": run,
        "pipeline": pipeline,
        "deployment": deployment,
    }


@pytest.fixture
def chain(alice):
    return make_chain(alice)


# The top bar.


def test_the_top_bar_links_projects_runs_deployments_api_keys_and_a_search_box(alice_client):
    html = alice_client.get(reverse("dashboard")).content.decode()
    nav = html[html.index('class="nav-links"') : html.index("</nav>")]
    for label, url in [
        ("Projects", reverse("dashboard")),
        ("Runs", reverse("run_list")),
        ("Deployments", reverse("deployment_list")),
        ("API keys", reverse("accounts:api_keys")),
    ]:
        assert f'<a href="{url}">{label}</a>' in nav
    assert f'action="{reverse("search")}"' in nav and 'name="q"' in nav


# The Runs page.


def test_the_runs_page_lists_runs_across_the_users_workspaces_newest_first(alice, bob, chain):
    theirs = make_chain(bob, name="Shared")
    add_member(workspace_of(bob), alice, "viewer")
    newer = Run.objects.create(experiment=chain["experiment"], plan={"kind": "compare"})
    from accounts.tests.factories import login_client

    html = login_client(alice).get(reverse("run_list")).content.decode()
    assert (
        html.index(newer.label) < html.index(theirs["run"].label) < html.index(chain["run"].label)
    )
    assert "Shared" in html and "bob" in html  # the workspace column


def test_the_runs_page_is_paginated_and_answers_htmx_with_the_fragment(alice_client, chain):
    Run.objects.bulk_create(
        Run(experiment=chain["experiment"], plan={"kind": "setup"}) for _ in range(30)
    )
    first = alice_client.get(reverse("run_list")).content.decode()
    assert first.count("data-run-id=") == 25 and "Page 1 of 2" in first
    second = alice_client.get(reverse("run_list"), {"page": 2}, **HTMX)
    body = second.content.decode()
    assert second.status_code == 200 and "<html" not in body and 'id="runs-page"' in body
    assert body.count("data-run-id=") == 6 and chain["run"].label in body


def test_bob_sees_none_of_alices_runs_or_deployments(bob_client, chain):
    assert chain["run"].label not in bob_client.get(reverse("run_list")).content.decode()
    html = bob_client.get(reverse("deployment_list")).content.decode()
    assert chain["deployment"].slug not in html and "Nothing is deployed yet" in html


# The Deployments page.


def test_the_deployments_page_lists_every_visible_deployment_and_filters_by_project(
    alice, alice_client, chain
):
    other = make_chain(alice, name="Fraud")
    html = alice_client.get(reverse("deployment_list")).content.decode()
    assert chain["deployment"].slug in html and other["deployment"].slug in html
    narrowed = alice_client.get(reverse("deployment_list"), {"project": other["project"].pk})
    body = narrowed.content.decode()
    assert other["deployment"].slug in body and chain["deployment"].slug not in body
    fragment = alice_client.get(reverse("deployment_list"), **HTMX).content.decode()
    assert 'id="deployments-page"' in fragment and "<html" not in fragment


def test_the_deployments_page_answers_404_for_another_users_project(bob_client, chain):
    response = bob_client.get(reverse("deployment_list"), {"project": chain["project"].pk})
    assert response.status_code == 404
    assert bob_client.get(reverse("deployment_list"), {"project": "x"}).status_code == 404


# Search.


def results_of(client, query, **headers):
    response = client.get(reverse("search"), {"q": query}, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_search_finds_each_kind_by_name_grouped_with_links(alice_client, chain):
    html = results_of(alice_client, "churn")
    for kind, obj_url in [
        ("projects", reverse("project_detail", args=[chain["project"].pk])),
        ("experiments", reverse("experiment_detail", args=[chain["experiment"].pk])),
        ("pipelines", reverse("pipeline_detail", args=[chain["pipeline"].pk])),
        ("deployments", reverse("deployment_detail", args=[chain["deployment"].slug])),
    ]:
        group = html[html.index(f'id="results-{kind}"') :]
        assert obj_url in group[: group.index("</section>")]
    assert reverse("dataset_detail", args=[chain["dataset"].pk]) in results_of(alice_client, "data")
    assert 'id="results-runs"' in results_of(alice_client, "logistic")  # by model name


@pytest.mark.parametrize("query", ["{pk}", "#{pk}", " # {pk} "])
def test_search_finds_a_run_by_its_id(alice_client, chain, query):
    run = chain["run"]
    html = results_of(alice_client, query.format(pk=run.pk))
    group = html[html.index('id="results-runs"') :]
    assert f'href="{reverse("run_detail", args=[run.pk])}">{run.label}</a>' in group


def test_search_handles_an_empty_or_short_query_and_no_match(alice_client, chain):
    assert "Type a name, or an id" in results_of(alice_client, "")
    assert "Type at least 2 characters" in results_of(alice_client, "c")
    assert "Nothing you can see matches" in results_of(alice_client, "zzzz-no-such")
    assert "Nothing you can see matches" in results_of(alice_client, "9" * 25)  # not an id
    assert "Nothing you can see matches" in results_of(alice_client, "zz\x00zz")
    assert reverse("project_detail", args=[chain["project"].pk]) in results_of(
        alice_client, "\x00churn"
    )


def test_search_limits_results_per_kind(alice, alice_client, chain):
    Experiment.objects.bulk_create(
        Experiment(
            project=chain["project"],
            dataset=chain["dataset"],
            name=f"churn variant {i}",
            task="classification",
            target="y",
        )
        for i in range(15)
    )
    html = results_of(alice_client, "churn")
    group = html[html.index('id="results-experiments"') :]
    assert group[: group.index("</section>")].count("<li>") == 10


def test_search_answers_htmx_with_the_results_fragment_and_escapes_names(alice, alice_client):
    make_project(alice, name="<b>bold</b> project")
    html = results_of(alice_client, "bold", **HTMX)
    assert 'id="search-results"' in html and "<html" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; project" in html and "<b>bold</b>" not in html


def test_search_never_shows_another_users_things(bob_client, chain):
    html = results_of(bob_client, "churn")
    assert "Nothing you can see matches" in html
    html = results_of(bob_client, f"#{chain['run'].pk}")
    assert chain["run"].label not in html


# The project page.


def test_the_project_page_lists_its_pipelines_and_deployments(alice_client, chain):
    project = chain["project"]
    html = alice_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    assert reverse("pipeline_detail", args=[chain["pipeline"].pk]) in html
    assert reverse("deployment_detail", args=[chain["deployment"].slug]) in html
    assert f'href="{reverse("project_pipelines", args=[project.pk])}"' in html
    assert f'href="{reverse("deployment_list")}?project={project.pk}"' in html
    assert ">New experiment<" in html and "Design experiment" not in html
    fragment = alice_client.get(reverse("project_detail", args=[project.pk]), **HTMX)
    assert 'id="project-pipelines"' in fragment.content.decode()


# Breadcrumbs and names.


def crumbs_of(html: str) -> str:
    start = html.index('aria-label="Breadcrumb"')
    return html[start : html.index("</nav>", start)]


def test_every_page_has_the_same_trail_from_the_workspace(alice, alice_client, chain):
    workspace = workspace_of(alice)
    ws_link = (
        f'<a href="{reverse("dashboard")}?workspace={workspace.pk}">{escape(workspace.name)}</a>'
    )
    project_link = f'<a href="{reverse("project_detail", args=[chain["project"].pk])}">'
    experiment_link = f'<a href="{reverse("experiment_detail", args=[chain["experiment"].pk])}">'
    pages = {
        reverse("project_detail", args=[chain["project"].pk]): [ws_link],
        reverse("dataset_detail", args=[chain["dataset"].pk]): [ws_link, project_link],
        reverse("experiment_detail", args=[chain["experiment"].pk]): [ws_link, project_link],
        reverse("run_detail", args=[chain["run"].pk]): [ws_link, project_link, experiment_link],
        reverse("pipeline_detail", args=[chain["pipeline"].pk]): [ws_link, project_link],
        reverse("deployment_detail", args=[chain["deployment"].slug]): [ws_link, project_link],
        reverse("project_pipelines", args=[chain["project"].pk]): [ws_link, project_link],
    }
    for url, links in pages.items():
        crumbs = crumbs_of(alice_client.get(url).content.decode())
        positions = [crumbs.index(link) for link in links]
        assert positions == sorted(positions), url
        assert 'aria-current="page"' in crumbs, url
    run_crumbs = crumbs_of(
        alice_client.get(reverse("run_detail", args=[chain["run"].pk])).content.decode()
    )
    assert f'<span aria-current="page">{chain["run"].label}</span>' in run_crumbs


def test_pipelines_and_deployments_crumbs_point_to_different_right_pages(alice_client, chain):
    project = chain["project"]
    pipeline_page = alice_client.get(reverse("pipeline_detail", args=[chain["pipeline"].pk]))
    deployment_page = alice_client.get(
        reverse("deployment_detail", args=[chain["deployment"].slug])
    )
    pipelines_crumb = f'<a href="{reverse("project_pipelines", args=[project.pk])}">Pipelines</a>'
    deployments_url = f"{reverse('deployment_list')}?project={project.pk}"
    assert pipelines_crumb in crumbs_of(pipeline_page.content.decode())
    assert f'<a href="{deployments_url}">Deployments</a>' in crumbs_of(
        deployment_page.content.decode()
    )
    listed = alice_client.get(deployments_url).content.decode()
    assert chain["deployment"].slug in listed


def test_the_workspace_crumb_shows_that_workspace_on_the_dashboard(alice, bob, chain):
    from accounts.tests.factories import login_client

    add_member(workspace_of(bob), alice, "viewer")
    bobs = make_chain(bob, name="Bobs")
    client = login_client(alice)
    html = client.get(reverse("dashboard"), {"workspace": workspace_of(bob).pk}).content.decode()
    assert "Bobs" in html and f"<h1>{escape(workspace_of(bob).name)}</h1>" in html
    assert bobs["run"].label in html
    charlie_ws = 10**12
    assert client.get(reverse("dashboard"), {"workspace": charlie_ws}).status_code == 404


def test_a_run_has_one_name_everywhere(alice_client, chain):
    run = chain["run"]
    assert run.label == f"Run #{run.pk} · create"
    pages = [
        reverse("dashboard"),
        reverse("run_list"),
        reverse("experiment_detail", args=[chain["experiment"].pk]),
        reverse("run_detail", args=[run.pk]),
        reverse("project_pipelines", args=[chain["project"].pk]),
        reverse("pipeline_detail", args=[chain["pipeline"].pk]),
        reverse("project_detail", args=[chain["project"].pk]),
    ]
    for url in pages:
        html = alice_client.get(url).content.decode()
        assert run.label in html, url
        assert f"Run {run.pk}<" not in html and f"run {run.pk}<" not in html, url


def test_a_copilots_back_link_names_the_run_the_same_way(chain):
    from copilots.components import back_link

    url, label = back_link(chain["run"])
    assert url == reverse("run_detail", args=[chain["run"].pk])
    assert label == f"Back to {chain['run'].label}"
