"""Every list route of /api/v1 answers one envelope, {items, count, next}, with a capped limit.

Following `next` from the first page reads every item exactly once, even when the items tie on
the list's order (the primary key breaks the tie); a limit above 200 or below 1, or a negative
offset, is a 422 that says why; the OpenAPI schema names each list's envelope.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.tests.factories import workspace_of
from engine.models import Experiment, Project, Run, RunEvent
from engine.tests.factories import labels_frame, make_dataset, make_experiment, make_project
from pycaret_studio.pagination import LIMIT_DEFAULT, LIMIT_MAX


def _read_all(client, url: str) -> tuple[list[dict], list[int]]:
    """Every item of the list, following `next`; and each page's count."""
    items, counts = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"items", "count", "next"}
        items += body["items"]
        counts.append(body["count"])
        url = body["next"]
    return items, counts


@pytest.mark.django_db
def test_next_reads_every_project_once_even_when_they_tie(alice, alice_client, bob_client):
    workspace = workspace_of(alice)
    now = timezone.now()
    Project.objects.bulk_create(
        Project(workspace=workspace, name=f"p{i}", updated_at=now) for i in range(7)
    )
    items, counts = _read_all(alice_client, "/api/v1/projects?limit=3")
    ids = [p["id"] for p in items]
    assert len(ids) == 7 and len(set(ids)) == 7 and counts == [7, 7, 7]
    assert ids == sorted(ids, reverse=True)  # same updated_at: newest id first
    assert bob_client.get("/api/v1/projects").json() == {"items": [], "count": 0, "next": None}


@pytest.mark.django_db
def test_the_runs_list_pages_by_offset_and_keeps_its_filters(alice, alice_client, bob_client):
    dataset = make_dataset(make_project(alice), labels_frame())
    experiment = make_experiment(dataset)
    queued = timezone.now()
    Run.objects.bulk_create(
        Run(experiment=experiment, plan={"kind": "setup"}, queued_at=queued) for _ in range(5)
    )
    archived = Run.objects.filter(experiment=experiment).order_by("pk").first()
    archived.archived_at = timezone.now()
    archived.save(update_fields=["archived_at"])
    url = f"/api/v1/experiments/{experiment.pk}/runs"

    first = alice_client.get(f"{url}?limit=2&archived=true").json()
    assert first["count"] == 5 and len(first["items"]) == 2
    assert first["next"] == f"{url}?limit=2&archived=true&offset=2"
    items, _ = _read_all(alice_client, f"{url}?limit=2&archived=true")
    assert len({r["id"] for r in items}) == 5
    live, counts = _read_all(alice_client, f"{url}?limit=2")
    assert archived.pk not in {r["id"] for r in live} and counts[0] == 4
    past_the_end = alice_client.get(f"{url}?offset=10").json()
    assert past_the_end == {"items": [], "count": 4, "next": None}
    assert bob_client.get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "where"),
    [
        (f"limit={LIMIT_MAX + 1}", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "limit"),
    ],
)
def test_a_bad_limit_or_offset_is_a_422_that_names_it(alice_client, query, where):
    response = alice_client.get(f"/api/v1/projects?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["detail"].startswith(f"{where}:")
    if query.startswith(f"limit={LIMIT_MAX + 1}"):
        assert str(LIMIT_MAX) in body["detail"]


@pytest.mark.django_db
def test_a_limit_of_200_is_accepted_and_the_default_is_one_page(alice, alice_client):
    dataset = make_dataset(make_project(alice), labels_frame())
    Experiment.objects.bulk_create(
        Experiment(project=dataset.project, dataset=dataset, name=f"e{i}", task="classification")
        for i in range(LIMIT_DEFAULT + 3)
    )
    url = f"/api/v1/projects/{dataset.project_id}/experiments"
    default = alice_client.get(url).json()
    assert len(default["items"]) == LIMIT_DEFAULT and default["count"] == LIMIT_DEFAULT + 3
    everything = alice_client.get(f"{url}?limit={LIMIT_MAX}").json()
    assert len(everything["items"]) == LIMIT_DEFAULT + 3 and everything["next"] is None


@pytest.mark.django_db
def test_run_events_page_by_cursor_in_the_same_envelope(alice, alice_client, bob_client):
    dataset = make_dataset(make_project(alice), labels_frame())
    run = Run.objects.create(experiment=make_experiment(dataset), plan={"kind": "setup"})
    RunEvent.objects.bulk_create(RunEvent(run=run, seq=s, message=f"m{s}") for s in range(1, 8))
    url = f"/api/v1/runs/{run.pk}/events"
    page = alice_client.get(f"{url}?limit=3").json()
    assert [e["seq"] for e in page["items"]] == [1, 2, 3] and page["count"] == 7
    assert page["next"] == f"{url}?limit=3&after=3"
    items, _ = _read_all(alice_client, f"{url}?limit=3")
    assert [e["seq"] for e in items] == list(range(1, 8))
    # Polling a live run: after the newest event, an empty page and no next (yet).
    assert alice_client.get(f"{url}?after=7").json() == {"items": [], "count": 7, "next": None}
    assert alice_client.get(f"{url}?limit={LIMIT_MAX + 1}").status_code == 422
    assert bob_client.get(url).status_code == 404


@pytest.mark.django_db
def test_every_list_route_documents_a_named_envelope(alice_client):
    schema = alice_client.get("/api/v1/openapi.json").json()
    lists = {
        "/api/v1/projects": "PagedProjectOut",
        "/api/v1/projects/{project_id}/datasets": "PagedDatasetOut",
        "/api/v1/projects/{project_id}/experiments": "PagedExperimentOut",
        "/api/v1/experiments/{experiment_id}/runs": "PagedRunOut",
        "/api/v1/runs/{run_id}/events": "PagedRunEventOut",
        "/api/v1/projects/{project_id}/pipelines": "PagedPipelineOut",
        "/api/v1/projects/{project_id}/deployments": "PagedDeploymentOut",
        "/api/v1/deployments/{slug}/history": "PagedRevisionOut",
        "/api/v1/llm/consultations": "PagedConsultationOut",
        "/api/v1/workspaces": "PagedWorkspaceOut",
        "/api/v1/workspaces/{workspace_id}/members": "PagedMemberOut",
        "/api/v1/workspaces/{workspace_id}/invitations": "PagedInvitationOut",
        "/api/v1/invitations": "PagedMyInvitationOut",
        "/api/v1/auth/api-keys": "PagedApiKeyOut",
    }
    for path, name in lists.items():
        get = schema["paths"][path]["get"]
        ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{name}", path
        params = {p["name"]: p for p in get["parameters"]}
        assert params["limit"]["schema"]["maximum"] == LIMIT_MAX, path
        assert "offset" in params or "after" in params, path
        envelope = schema["components"]["schemas"][name]
        assert envelope["required"] == ["items", "count", "next"]
        assert all(envelope["properties"][k].get("description") for k in envelope["required"])
    # Every GET answering a JSON array is gone: each list is an envelope.
    for path, methods in schema["paths"].items():
        answer = methods.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema", {})
        assert body.get("type") != "array", path
