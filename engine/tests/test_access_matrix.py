"""Object-level access and roles across every resource route, and the audit trail they leave.

alice owns a workspace with the whole chain (project → dataset → experiment → succeeded run →
pipeline → deployment → batch). bob, from his own workspace, holds a key with every scope.
"""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role, Scope
from accounts.services import api_key_create
from accounts.tests.factories import add_member, login_client, workspace_of
from engine.models import BatchPrediction
from engine.services.deployments import deployment_deploy
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import make_succeeded_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(alice):
    run = make_succeeded_run(alice, name="matrix")
    experiment = run.experiment
    pipeline = pipeline_promote(run=run, user=alice, name="matrix")
    deployment, _ = deployment_deploy(
        pipeline=pipeline, user=alice, slug="matrix-endpoint", acknowledge_risks=True
    )
    batch = BatchPrediction.objects.create(
        deployment=deployment, pipeline=pipeline, input_filename="x.csv", input_path="nowhere.csv"
    )
    return {
        "workspace": workspace_of(alice),
        "owner": alice,
        "project": experiment.project,
        "dataset": experiment.dataset,
        "experiment": experiment,
        "run": run,
        "pipeline": pipeline,
        "deployment": deployment,
        "batch": batch,
    }


def resource_routes(c) -> list[tuple[str, str, dict | None]]:
    p, d, e, r = c["project"].pk, c["dataset"].pk, c["experiment"].pk, c["run"].pk
    pl, slug, b, w = c["pipeline"].pk, c["deployment"].slug, c["batch"].pk, c["workspace"].pk
    row = {name: 1.0 for name in [f["name"] for f in c["pipeline"].feature_schema]}
    return [
        ("get", f"/api/v1/workspaces/{w}", None),
        ("get", f"/api/v1/workspaces/{w}/members", None),
        ("post", f"/api/v1/workspaces/{w}/members", {"username": "bob", "role": "admin"}),
        ("get", f"/api/v1/projects/{p}", None),
        ("patch", f"/api/v1/projects/{p}", {"name": "stolen"}),
        ("delete", f"/api/v1/projects/{p}", None),
        ("get", f"/api/v1/projects/{p}/datasets", None),
        ("get", f"/api/v1/datasets/{d}", None),
        ("get", f"/api/v1/projects/{p}/experiments", None),
        (
            "post",
            f"/api/v1/projects/{p}/experiments",
            {"name": "x", "dataset_id": d, "task": "classification", "target": "target"},
        ),
        ("get", f"/api/v1/experiments/{e}", None),
        ("patch", f"/api/v1/experiments/{e}", {"name": "stolen"}),
        *[
            (method, f"/api/v1/{kind}/{pk}{suffix}", None)
            for kind, pk in (("datasets", d), ("experiments", e), ("runs", r))
            for method, suffix in (("post", "/archive"), ("post", "/restore"), ("delete", ""))
        ],
        ("get", f"/api/v1/experiments/{e}/runs", None),
        ("post", f"/api/v1/experiments/{e}/runs", {"plan": {"kind": "setup"}}),
        ("get", f"/api/v1/runs/{r}", None),
        ("get", f"/api/v1/runs/{r}/events", None),
        ("get", f"/api/v1/runs/compare?ids={r},{r + 10**9}", None),
        ("post", f"/api/v1/runs/{r}/cancel", None),
        ("post", f"/api/v1/runs/{r}/rerun", None),
        ("get", f"/api/v1/runs/{r}/plots/auc", None),
        ("post", f"/api/v1/runs/{r}/promote", {}),
        ("get", f"/api/v1/pipelines/{pl}", None),
        ("get", f"/api/v1/projects/{p}/pipelines", None),
        ("post", f"/api/v1/pipelines/{pl}/deploy", {}),
        ("get", f"/api/v1/projects/{p}/deployments", None),
        ("get", f"/api/v1/deployments/{slug}", None),
        ("post", f"/api/v1/deployments/{slug}/predict", {"rows": [row]}),
        ("get", f"/api/v1/deployments/{slug}/drift", None),
        ("get", f"/api/v1/deployments/{slug}/stats", None),
        ("get", f"/api/v1/deployments/{slug}/history", None),
        ("post", f"/api/v1/deployments/{slug}/rollback", None),
        ("post", f"/api/v1/deployments/{slug}/deactivate", None),
        ("post", f"/api/v1/deployments/{slug}/activate", None),
        ("get", f"/api/v1/batch-predictions/{b}", None),
        ("get", f"/api/v1/batch-predictions/{b}/download", None),
        ("post", "/api/v1/llm/analyze-dataset", {"dataset_id": d}),
        ("post", "/api/v1/llm/design-experiment", {"dataset_id": d}),
        ("post", "/api/v1/llm/explain-run", {"run_id": r}),
        ("post", "/api/v1/llm/debug-run", {"run_id": r}),
        ("post", "/api/v1/llm/review-deployment", {"pipeline_id": pl}),
        ("post", "/api/v1/llm/analyze-drift", {"deployment_id": c["deployment"].pk}),
    ]


def call(client, method, url, body, **headers):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def test_bobs_key_gets_404_on_every_one_of_alices_resources(client, bob, chain):
    _, token = api_key_create(user=bob, name="all", scopes=list(Scope.values))
    for method, url, body in resource_routes(chain):
        response = call(client, method, url, body, HTTP_X_PYCARET_KEY=token)
        assert response.status_code == 404, (method, url, response.status_code, response.content)
        assert response.json()["code"] == "not_found", (method, url)
    chain["project"].refresh_from_db()
    assert chain["project"].name != "stolen"


def test_bobs_session_gets_404_on_alices_pages(bob_client, chain):
    pages = [
        reverse("project_detail", args=[chain["project"].pk]),
        reverse("dataset_detail", args=[chain["dataset"].pk]),
        reverse("dataset_download", args=[chain["dataset"].pk]),
        reverse("experiment_detail", args=[chain["experiment"].pk]),
        reverse("run_detail", args=[chain["run"].pk]),
        reverse("run_plot", args=[chain["run"].pk, "auc"]),
        reverse("pipeline_detail", args=[chain["pipeline"].pk]),
        reverse("pipeline_download", args=[chain["pipeline"].pk]),
        reverse("deployment_detail", args=[chain["deployment"].slug]),
        reverse("experiment_clone", args=[chain["experiment"].pk]),
        reverse("experiment_edit", args=[chain["experiment"].pk]),
        reverse("run_edit", args=[chain["run"].pk]),
        reverse("dataset_delete", args=[chain["dataset"].pk]),
        reverse("experiment_delete", args=[chain["experiment"].pk]),
        reverse("run_delete", args=[chain["run"].pk]),
        reverse("experiment_runs", args=[chain["experiment"].pk]),
        reverse("run_compare") + f"?ids={chain['run'].pk},{chain['run'].pk + 10**9}",
        reverse("deployment_list") + f"?project={chain['project'].pk}",
        reverse("dashboard") + f"?workspace={chain['workspace'].pk}",
        reverse("accounts:workspace_audit", args=[chain["workspace"].pk]),
    ]
    for url in pages:
        assert bob_client.get(url).status_code == 404, url
    posts = [
        reverse("run_promote", args=[chain["run"].pk]),
        reverse("pipeline_deploy", args=[chain["pipeline"].pk]),
        reverse("run_rerun", args=[chain["run"].pk]),
        reverse("project_delete", args=[chain["project"].pk]),
        reverse("experiment_edit", args=[chain["experiment"].pk]),
        *[
            reverse(f"{kind}_{action}", args=[chain[kind].pk])
            for kind in ("dataset", "experiment", "run")
            for action in ("archive", "restore", "delete")
        ],
    ]
    for url in posts:
        assert bob_client.post(url).status_code == 404, url


EXPECTED = {
    # role: (create project, submit run, predict, deploy)
    Role.VIEWER: (403, 403, 403, 403),
    Role.MEMBER: (201, 202, 200, 403),
    Role.ADMIN: (201, 202, 200, 201),
}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.ADMIN])
def test_each_role_reaches_only_what_it_allows_in_the_api(role, bob, chain):
    add_member(chain["workspace"], bob, role)
    client = login_client(bob)
    row = {f["name"]: 1.0 for f in chain["pipeline"].feature_schema}
    w, e = chain["workspace"].pk, chain["experiment"].pk
    statuses = (
        call(
            client, "post", "/api/v1/projects", {"name": f"by {role}", "workspace_id": w}
        ).status_code,
        call(
            client, "post", f"/api/v1/experiments/{e}/runs", {"plan": {"kind": "setup"}}
        ).status_code,
        call(
            client,
            "post",
            f"/api/v1/deployments/{chain['deployment'].slug}/predict",
            {"rows": [row]},
        ).status_code,
        call(
            client,
            "post",
            f"/api/v1/pipelines/{chain['pipeline'].pk}/deploy",
            {"slug": f"by-{role}", "acknowledge_risks": True},
        ).status_code,
    )
    assert statuses == EXPECTED[role]
    # Every role may read.
    assert client.get(f"/api/v1/projects/{chain['project'].pk}").status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.ADMIN])
def test_each_role_reaches_only_what_it_allows_on_pages(role, bob, chain):
    add_member(chain["workspace"], bob, role)
    client = login_client(bob)
    assert (
        client.get(reverse("deployment_detail", args=[chain["deployment"].slug])).status_code == 200
    )
    deploy = client.post(
        reverse("pipeline_deploy", args=[chain["pipeline"].pk]), {"slug": f"page-{role}"}
    )
    assert (deploy.status_code == 403) == (role != Role.ADMIN), deploy.status_code
    run = client.post(reverse("run_create", args=[chain["experiment"].pk]), {"kind": "setup"})
    assert (run.status_code == 403) == (role == Role.VIEWER), run.status_code


def test_a_keys_scopes_narrow_the_role(bob, chain):
    add_member(chain["workspace"], bob, Role.ADMIN)
    _, token = api_key_create(user=bob, name="predict-only", scopes=[Scope.PREDICT])
    row = {f["name"]: 1.0 for f in chain["pipeline"].feature_schema}
    client = login_client(bob).__class__()
    predict = call(
        client,
        "post",
        f"/api/v1/deployments/{chain['deployment'].slug}/predict",
        {"rows": [row]},
        HTTP_X_PYCARET_KEY=token,
    )
    assert predict.status_code == 200
    deploy = call(
        client,
        "post",
        f"/api/v1/pipelines/{chain['pipeline'].pk}/deploy",
        {},
        HTTP_X_PYCARET_KEY=token,
    )
    assert deploy.status_code == 403


def test_the_audit_log_receives_the_lifecycle_events(alice, alice_client, chain):
    slug = chain["deployment"].slug
    e = chain["experiment"].pk
    assert (
        call(
            alice_client, "post", f"/api/v1/experiments/{e}/runs", {"plan": {"kind": "setup"}}
        ).status_code
        == 202
    )
    assert (
        call(
            alice_client, "post", f"/api/v1/runs/{chain['run'].pk}/promote", {"name": "matrix"}
        ).status_code
        == 201
    )
    assert (
        call(alice_client, "post", f"/api/v1/deployments/{slug}/deactivate", None).status_code
        == 200
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "run.submitted",
        "pipeline.promoted",
        "deployment.created",
        "deployment.changed",
    } <= actions
    event = AuditEvent.objects.filter(action="run.submitted").latest("id")
    assert event.actor == alice and event.workspace == chain["workspace"]
    assert event.ip == "127.0.0.1"
