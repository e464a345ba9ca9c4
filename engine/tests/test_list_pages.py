"""Every list page shows one page of its list, and htmx swaps the next page in on its own.

Each list: the full page shows the first PER_PAGE items and a pager; the pager's link, fetched
as htmx with the list's element as the target, returns only that list's fragment with the next
items; another user's page is a 404.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import ApiKey, Membership, User
from accounts.services import api_key_create
from accounts.tests.factories import workspace_of
from engine.models import Dataset, Deployment, Experiment, Pipeline, Project
from engine.tests.factories import HTMX, labels_frame, make_dataset, make_experiment, make_project
from engine.views.projects import PROJECT_LIST_PER_PAGE
from pycaret_studio.pagination import PER_PAGE

N = PER_PAGE + 5  # two pages: PER_PAGE, then 5


def _htmx_to(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


def _next_href(html: str, param: str) -> str:
    """The pager's Next link of the list paged by `param`."""
    pager = html.split(f'data-pager="{param}"', 1)[1].split("</nav>", 1)[0]
    href = re.search(r'rel="next" href="([^"]+)"', pager).group(1)
    return href.replace("&amp;", "&")


def _copies(obj, n: int, **fields_of) -> None:
    """`n` copies of a model instance, each with fields from `fields_of[name](i)`."""
    model = type(obj)
    rows = []
    for i in range(n):
        copy = model.objects.get(pk=obj.pk)
        copy.pk = copy.id = None
        for name, make in fields_of.items():
            setattr(copy, name, make(i))
        rows.append(copy)
    model.objects.bulk_create(rows)


@pytest.fixture
def project(alice):
    project = make_project(alice)
    dataset = make_dataset(project, labels_frame(), name="d-base.csv")
    experiment = make_experiment(dataset, name="e-base")
    _copies(dataset, N - 1, name=lambda i: f"d{i:03d}.csv")
    _copies(experiment, N - 1, name=lambda i: f"e{i:03d}")
    return project


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "target", "model"),
    [
        ("datasets_page", "project-datasets", Dataset),
        ("experiments_page", "project-experiments", Experiment),
    ],
)
def test_the_project_page_pages_its_datasets_and_experiments(
    alice_client, bob_client, project, param, target, model
):
    url = f"/projects/{project.pk}/"
    html = alice_client.get(url).content.decode()
    section = html.split(f'id="{target}"', 1)[1].split("</section>", 1)[0]
    path = "datasets" if model is Dataset else "experiments"
    first = re.findall(rf'href="/{path}/(\d+)/"', section)
    assert len(first) == PROJECT_LIST_PER_PAGE
    assert f"Page 1 of 3 ({N} in all)" in section

    href = _next_href(html, param)
    assert href == f"?{param}=2"
    fragment = alice_client.get(url + href, **_htmx_to(target))
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith(f'<section class="card" id="{target}"')
    assert "<html" not in body and 'id="project-head"' not in body
    second = re.findall(rf'href="/{path}/(\d+)/"', body)
    assert len(second) == PROJECT_LIST_PER_PAGE and not set(first) & set(second)
    third = alice_client.get(url + _next_href(body, param), **_htmx_to(target)).content
    third = re.findall(rf'href="/{path}/(\d+)/"', third.decode())
    assert set(first) | set(second) | set(third) == {
        str(pk) for pk in model.objects.filter(project=project).values_list("pk", flat=True)
    }
    # The same page as a full page (a reload of the pushed URL).
    again = alice_client.get(url + href).content.decode()
    assert "<html" in again and re.findall(rf'href="/{path}/(\d+)/"', again.split(target)[1])
    assert bob_client.get(url + href, **_htmx_to(target)).status_code == 404


@pytest.mark.django_db
def test_the_project_page_without_a_target_still_swaps_its_body(alice_client, project):
    body = alice_client.get(f"/projects/{project.pk}/", **HTMX).content.decode()
    assert body.lstrip().startswith('<div id="project-body"')


@pytest.mark.django_db
def test_the_dashboard_pages_the_projects(alice, alice_client, bob_client):
    base = make_project(alice, name="p-base")
    _copies(base, N - 1, name=lambda i: f"p{i:03d}")
    html = alice_client.get("/").content.decode()
    section = html.split('id="projects"', 1)[1].split("</section>", 1)[0]
    first = re.findall(r'href="/projects/(\d+)/"', section)
    assert len(first) == PER_PAGE
    href = _next_href(html, "page")
    fragment = alice_client.get("/" + href, **_htmx_to("projects")).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="projects"')
    second = re.findall(r'href="/projects/(\d+)/"', fragment)
    assert len(second) == N - PER_PAGE and not set(first) & set(second)
    # Bob's dashboard shows his own workspace: none of Alice's projects, on any page.
    bobs = bob_client.get("/" + href, **_htmx_to("projects")).content.decode()
    assert not re.findall(r'href="/projects/(\d+)/"', bobs)


def _project_with_pipelines(user) -> Project:
    """A project with N pipelines and N deployments, copied from bare rows (no training)."""
    from engine.models import Run

    project = make_project(user)
    dataset = make_dataset(project, labels_frame())
    experiment = make_experiment(dataset)
    run = Run.objects.create(experiment=experiment, plan={"kind": "setup"}, status="succeeded")
    pipeline = Pipeline.objects.create(
        project=project,
        name="churn",
        version=1,
        origin_run=run,
        model_id="lr",
        task="classification",
    )
    _copies(pipeline, N - 1, version=lambda i: i + 2)
    deployment = Deployment.objects.create(project=project, pipeline=pipeline, slug="d-base")
    _copies(deployment, N - 1, slug=lambda i: f"d{i:03d}")
    return project


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "target", "pattern"),
    [
        ("pipelines_page", "project-pipelines", r'href="/pipelines/(\d+)/"'),
        ("deployments_page", "project-deployments", r'href="/deployments/([-\w]+)/"'),
    ],
)
def test_the_pipelines_page_pages_pipelines_and_deployments(
    alice, alice_client, bob_client, param, target, pattern
):
    project = _project_with_pipelines(alice)
    url = f"/projects/{project.pk}/pipelines/"
    html = alice_client.get(url).content.decode()
    section = html.split(f'id="{target}"', 1)[1].split("</section>", 1)[0]
    first = re.findall(pattern, section)
    assert len(first) == PER_PAGE
    fragment = alice_client.get(url + _next_href(html, param), **_htmx_to(target))
    body = fragment.content.decode()
    assert body.lstrip().startswith(f'<section class="card" id="{target}"')
    second = re.findall(pattern, body)
    assert len(second) == N - PER_PAGE and not set(first) & set(second)
    assert bob_client.get(url + f"?{param}=2", **_htmx_to(target)).status_code == 404


@pytest.mark.django_db
def test_the_api_keys_page_pages_the_keys(alice, alice_client, bob_client):
    for i in range(N):
        api_key_create(user=alice, name=f"key {i:03d}", scopes=["read"])
    html = alice_client.get("/account/api-keys/").content.decode()
    first = re.findall(r"key (\d{3})", html.split('id="key-table"', 1)[1])
    assert len(set(first)) == PER_PAGE
    href = _next_href(html, "page")
    body = alice_client.get("/account/api-keys/" + href, **_htmx_to("key-table")).content
    body = body.decode()
    assert body.lstrip().startswith('<section class="card" id="key-table"')
    second = set(re.findall(r"key (\d{3})", body))
    assert len(second) == N - PER_PAGE and not set(first) & second
    # Bob sees his own keys only: none on his second page, none of Alice's on his first.
    assert "key 0" not in bob_client.get("/account/api-keys/" + href).content.decode()
    assert ApiKey.objects.filter(user=alice).count() == N


@pytest.mark.django_db
def test_the_workspace_page_pages_its_members(alice, alice_client, bob_client):
    workspace = workspace_of(alice)
    users = User.objects.bulk_create(
        User(username=f"m{i:03d}", password=make_password(None)) for i in range(N)
    )
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=u, role="member") for u in users
    )
    url = f"/account/workspaces/{workspace.pk}/"
    html = alice_client.get(url).content.decode()
    members = html.split('id="members"', 1)[1].split("</table>", 1)[0]
    first = re.findall(r"<td>(alice|m\d{3})[ <]", members)
    assert len(first) == PER_PAGE  # of N + 1 (Alice too)
    body = alice_client.get(url + _next_href(html, "members_page"), **_htmx_to("members"))
    body = body.content.decode()
    assert body.lstrip().startswith('<section class="card" id="members"')
    second = re.findall(r"<td>(alice|m\d{3})[ <]", body.split("</table>", 1)[0])
    assert len(second) == N + 1 - PER_PAGE and not set(first) & set(second)
    assert bob_client.get(url + "?members_page=2", **_htmx_to("members")).status_code == 404


@pytest.mark.django_db
def test_the_pipeline_page_pages_its_versions(alice, alice_client, bob_client):
    project = _project_with_pipelines(alice)
    newest = Pipeline.objects.filter(project=project).order_by("-version").first()
    url = f"/pipelines/{newest.pk}/"
    html = alice_client.get(url).content.decode()
    table = html.split('id="pipeline-versions"', 1)[1].split("</table>", 1)[0]
    first = re.findall(r'href="/pipelines/(\d+)/">v', table)
    assert len(first) == PER_PAGE and first[0] == str(newest.pk)
    target = "pipeline-versions-list"
    body = alice_client.get(url + _next_href(html, "versions_page"), **_htmx_to(target))
    body = body.content.decode()
    assert body.lstrip().startswith(f'<section class="card" id="{target}"')
    second = re.findall(r'href="/pipelines/(\d+)/">v', body)
    assert len(second) == N - PER_PAGE and not set(first) & set(second)
    assert bob_client.get(url + "?versions_page=2", **_htmx_to(target)).status_code == 404


@pytest.mark.django_db
def test_the_dataset_page_pages_its_experiments(alice_client, bob_client, project):
    dataset = Dataset.objects.get(project=project, name="d-base.csv")
    url = f"/datasets/{dataset.pk}/"
    html = alice_client.get(url).content.decode()
    section = html.split('id="dataset-experiments"', 1)[1].split("</section>", 1)[0]
    first = re.findall(r'href="/experiments/(\d+)/"', section)
    assert len(first) == PER_PAGE
    target = "dataset-experiments"
    body = alice_client.get(url + _next_href(html, "experiments_page"), **_htmx_to(target))
    body = body.content.decode()
    assert body.lstrip().startswith(f'<section class="card" id="{target}"')
    second = re.findall(r'href="/experiments/(\d+)/"', body)
    assert len(second) == N - PER_PAGE and not set(first) & set(second)
    assert bob_client.get(url + "?experiments_page=2", **_htmx_to(target)).status_code == 404


@pytest.mark.django_db
def test_the_deployment_page_pages_its_history(alice, alice_client, bob_client):
    from engine.models import DeploymentRevision
    from engine.views.deployments import HISTORY_PER_PAGE

    project = _project_with_pipelines(alice)
    deployment = Deployment.objects.get(project=project, slug="d-base")
    pipelines = list(Pipeline.objects.filter(project=project).order_by("version"))
    DeploymentRevision.objects.bulk_create(
        DeploymentRevision(deployment=deployment, pipeline=p, action="deploy") for p in pipelines
    )
    url = f"/deployments/{deployment.slug}/"
    html = alice_client.get(url).content.decode()
    history = html.split('id="deployment-history"', 1)[1].split("</ol>", 1)[0]
    first = re.findall(r'href="/pipelines/(\d+)/">v', history)
    assert len(first) == HISTORY_PER_PAGE
    target = "deployment-history-list"
    body = alice_client.get(url + _next_href(html, "history_page"), **_htmx_to(target))
    body = body.content.decode()
    assert body.lstrip().startswith(f'<div id="{target}"')
    second = re.findall(r'href="/pipelines/(\d+)/">v', body)
    assert len(second) == HISTORY_PER_PAGE and not set(first) & set(second)
    assert bob_client.get(url + "?history_page=2", **_htmx_to(target)).status_code == 404
