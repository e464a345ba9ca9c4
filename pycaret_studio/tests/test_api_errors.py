"""The API answers every error as JSON {detail, code} with the right status, never Django's HTML
pages, never a traceback; and its OpenAPI schema documents those errors on every route.

Several tests walk every operation of the schema, so a route added later is held to the same
rules without a line here.
"""

import json
import logging
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Membership, Scope
from accounts.services import api_key_create
from accounts.tests.factories import login_client
from engine.models import Dataset, Experiment, Project
from engine.tests.factories import (
    BROKEN_MULTIPART,
    breast_cancer_frame,
    csv_bytes,
    make_dataset,
    make_experiment,
    make_project,
)

pytestmark = pytest.mark.django_db

PUBLIC = {"/api/v1/health"}
TOO_BIG_ID = 9223372036854775808  # 2**63: one past the largest id a database stores


def openapi() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def operations(*, json_body: bool = False) -> list[tuple[str, str, dict]]:
    found = []
    for path, methods in openapi()["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if json_body and "application/json" not in content:
                continue
            found.append((method, path, operation))
    return found


def concrete(path: str, value="1") -> str:
    return re.sub(r"{[^}]+}", str(value), path)


def send(client, method: str, url: str, body: str = "{}"):
    """Any method, with a JSON body (which a GET or DELETE route ignores)."""
    return client.generic(method.upper(), url, body, content_type="application/json")


def key_client(user) -> Client:
    _, token = api_key_create(user=user, name="errors", scopes=[s.value for s in Scope])
    return Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code
    return body


def test_an_oversized_body_is_413_json(alice_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "x" * 5000})
    response = alice_client.post("/api/v1/projects", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large.", "code": "too_large"}


def test_a_validation_error_names_the_field(alice_client):
    response = alice_client.post("/api/v1/projects", {}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "name" in body["detail"]


# A JSON body must be an object: `false` is not an empty patch, nor `-5363` a redeploy.


@pytest.mark.parametrize("body", ["false", "-5363", '"str"', "[]", "null", "[{}]"])
def test_a_json_body_that_is_not_an_object_is_a_400_on_every_route(alice, body):
    client = login_client(alice)  # the session reaches every route, key management too
    project = make_project(alice)
    routes = operations(json_body=True)
    assert len(routes) >= 15
    for method, path, _ in routes:
        response = getattr(client, method)(
            concrete(path, project.pk), body, content_type="application/json"
        )
        answer = assert_error(response, 400, "body_not_an_object")
        assert "must be a JSON object" in answer["detail"], (method, path)
    project.refresh_from_db()
    assert (project.name, project.description) == ("Churn", "")
    assert Project.objects.count() == 1


def test_a_patch_of_false_changes_nothing(alice, alice_client):
    project = make_project(alice)
    before = project.updated_at
    response = alice_client.patch(
        f"/api/v1/projects/{project.pk}", "false", content_type="application/json"
    )
    assert_error(response, 400, "body_not_an_object")
    project.refresh_from_db()
    assert project.updated_at == before


def test_a_body_that_is_not_json_is_a_400(alice_client):
    response = alice_client.post("/api/v1/projects", "{name:", content_type="application/json")
    assert (
        assert_error(response, 400, "bad_json")["detail"] == "The request body is not valid JSON."
    )


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(alice_client, literal):
    body = '{"name": "Churn", "description": ' + literal + "}"
    response = alice_client.post("/api/v1/projects", body, content_type="application/json")
    assert_error(response, 400, "bad_json")
    assert not Project.objects.exists()


# No credentials: 401 on every route but health, before any CSRF check.


def test_without_credentials_every_route_answers_401_before_the_csrf_check():
    browser = Client(enforce_csrf_checks=True)  # checks CSRF as a browser's requests are
    checked = 0
    for method, path, _ in operations():
        if path in PUBLIC:
            continue
        response = send(browser, method, concrete(path))
        body = assert_error(response, 401, "unauthorized")
        assert "CSRF" not in body["detail"], (method, path)
        checked += 1
    assert checked >= 40


def test_a_signed_in_session_without_the_csrf_token_still_gets_403(alice):
    browser = login_client(alice, csrf_checks=True)
    response = browser.post("/api/v1/projects", {"name": "Churn"}, "application/json")
    assert "CSRF" in assert_error(response, 403, "forbidden")["detail"]
    assert not Project.objects.exists()


# 404 and 405 are JSON too, whatever DEBUG says (with DEBUG, Django's 404 page lists every URL).


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_json_404(alice_client, settings, debug):
    settings.DEBUG = debug
    for path in ["/api/v1/nope", "/api/v1/projects/1/nope", "/api/v1/projects/"]:
        body = assert_error(alice_client.get(path), 404, "not_found")
        assert "api/v1" in body["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_method_a_route_does_not_take_is_a_json_405(alice_client, settings, debug):
    settings.DEBUG = debug
    response = alice_client.delete("/api/v1/health")
    body = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    assert "DELETE" in body["detail"] and "GET" in body["detail"]
    assert_error(alice_client.put("/api/v1/projects"), 405, "method_not_allowed")


def test_page_404s_stay_html(alice_client):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# A 500: JSON with a request id, never a traceback; the log has the traceback under that id.


@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_is_json_with_a_request_id_and_no_traceback(
    alice, settings, monkeypatch, caplog, debug
):
    settings.DEBUG = debug

    def broken(**kwargs):
        raise RuntimeError("the secret internals of project_create")

    monkeypatch.setattr("engine.services.projects.project_create", broken)
    with caplog.at_level(logging.ERROR):
        response = key_client(alice).post(
            "/api/v1/projects", {"name": "Churn"}, content_type="application/json"
        )
    body = assert_error(response, 500, "server_error")
    request_id = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response["X-Request-ID"] == request_id
    assert request_id in body["detail"]
    text = response.content.decode()
    assert "Traceback" not in text and "secret internals" not in text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret internals" in str(logged[0].exc_info[1])


def test_an_error_outside_a_route_body_is_json_too(alice, monkeypatch):
    # The upload routes' size check runs before the route itself, outside its error handlers.
    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr("engine.uploads.upload_rejected_early", broken)
    project = make_project(alice)
    response = key_client(alice).post(f"/api/v1/projects/{project.pk}/datasets", {})
    body = assert_error(response, 500, "server_error")
    assert response["X-Request-ID"] == body["request_id"]


class ExplodingMiddleware:
    """Fails every request, outside any view: Django itself answers the 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise RuntimeError("the secret internals of a middleware")


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_in_a_middleware_is_json_without_a_traceback(alice, settings, caplog, debug):
    settings.DEBUG = debug
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ExplodingMiddleware"]
    client = key_client(alice)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/workspaces")
    body = assert_error(response, 500, "server_error")
    assert response["X-Request-ID"] == body["request_id"]
    assert "secret internals" not in response.content.decode()
    assert any(body["request_id"] in r.getMessage() for r in caplog.records)


def test_every_response_carries_a_request_id(alice_client):
    first = alice_client.get("/api/v1/workspaces")
    second = alice_client.get("/api/v1/workspaces")
    assert first.status_code == 200
    assert first["X-Request-ID"] != second["X-Request-ID"]


# Ids outside the 64-bit range: 404 or 422 with the JSON body, never an overflow 500.


def test_an_id_too_large_for_the_database_in_any_path_is_a_404_or_422(alice):
    client = login_client(alice)  # the session reaches every route, session-only ones too
    checked = 0
    for method, path, operation in operations():
        ids = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        if not any(p["schema"].get("type") == "integer" for p in ids):
            continue
        url = concrete(path, 99999999999999999999)
        response = send(client, method, url)
        assert response.status_code in (404, 422), (method, url, response.content[:300])
        assert_error(response, response.status_code)
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/llm/consultations", "run_id"),
        ("/api/v1/llm/consultations", "pipeline_id"),
        ("/api/v1/llm/consultations", "dataset_id"),
        ("/api/v1/llm/consultations", "deployment_id"),
        ("/api/v1/projects", "workspace_id"),
        ("/api/v1/runs/1/events", "after"),
    ],
)
def test_an_id_too_large_in_a_query_filter_is_a_422(alice, path, query):
    response = key_client(alice).get(f"{path}?{query}={TOO_BIG_ID}")
    assert query in assert_error(response, 422, "validation_error")["detail"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/llm/explain-run", "run_id"),
        ("/api/v1/llm/analyze-dataset", "dataset_id"),
        ("/api/v1/llm/review-deployment", "pipeline_id"),
        ("/api/v1/llm/analyze-drift", "deployment_id"),
        ("/api/v1/projects", "workspace_id"),
    ],
)
def test_an_id_too_large_in_a_body_is_a_422(alice, path, field):
    body = {"name": "Churn", field: TOO_BIG_ID}
    response = key_client(alice).post(path, body, content_type="application/json")
    assert field in assert_error(response, 422, "validation_error")["detail"]


def test_the_schema_says_how_large_an_id_may_be():
    operation = openapi()["paths"]["/api/v1/runs/{run_id}"]["get"]
    (run_id,) = operation["parameters"]
    assert run_id["schema"]["minimum"] == 1
    assert run_id["schema"]["maximum"] == 2**63 - 1


# NUL characters (which PostgreSQL cannot store) and text longer than its column: 422.


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("post", "/api/v1/projects", {"name": "a\x00b"}, "body.name"),
        ("patch", "/api/v1/projects/{project}", {"description": "x\x00"}, "body.description"),
        (
            "post",
            "/api/v1/projects/{project}/experiments",
            {"name": "e", "dataset_id": 1, "task": "classification", "setup": {"a\x00": 1}},
            "body.setup",
        ),
        ("post", "/api/v1/deployments/x/predict", {"rows": [{"c": "\x00"}]}, "body.rows[0].c"),
        ("post", "/api/v1/llm/design-experiment", {"dataset_id": 1, "goal": "\x00"}, "goal"),
    ],
)
def test_a_nul_character_in_a_json_body_is_a_422(alice, method, path, body, where):
    project = make_project(alice)
    url = path.format(project=project.pk)
    response = getattr(key_client(alice), method)(url, body, content_type="application/json")
    answer = assert_error(response, 422, "nul_character")
    assert where in answer["detail"]
    project.refresh_from_db()
    assert project.description == "" and Project.objects.count() == 1


def test_a_nul_character_in_a_query_is_a_422(alice):
    response = key_client(alice).get("/api/v1/llm/consultations?type=run%00")
    assert "query.type" in assert_error(response, 422, "nul_character")["detail"]


def test_a_nul_character_in_an_upload_form_field_or_filename_is_a_422(alice):
    project = make_project(alice)
    client = key_client(alice)
    url = f"/api/v1/projects/{project.pk}/datasets"
    data = csv_bytes(breast_cancer_frame().head(20))
    named = client.post(url, {"file": SimpleUploadedFile("a.csv", data), "name": "x\x00y"})
    assert "form.name" in assert_error(named, 422, "nul_character")["detail"]
    assert not Dataset.objects.exists()


TOO_LONG = [
    ("post", "/api/v1/projects", {"name": "n" * 121}, "name"),
    ("post", "/api/v1/projects", {"name": "n", "description": "d" * 2001}, "description"),
    ("patch", "/api/v1/projects/{project}", {"description": "d" * 2001}, "description"),
    (
        "post",
        "/api/v1/projects/{project}/experiments",
        {"name": "e" * 201, "dataset_id": 1, "task": "classification"},
        "name",
    ),
    (
        "post",
        "/api/v1/projects/{project}/experiments",
        {"name": "e", "dataset_id": 1, "task": "classification", "target": "t" * 256},
        "target",
    ),
    ("post", "/api/v1/runs/1/promote", {"name": "p" * 201}, "name"),
    ("post", "/api/v1/pipelines/1/deploy", {"slug": "s" * 81}, "slug"),
    ("post", "/api/v1/llm/design-experiment", {"dataset_id": 1, "goal": "g" * 501}, "goal"),
    ("post", "/api/v1/workspaces/{workspace}/members", {"username": "u" * 151}, "username"),
    ("post", "/api/v1/workspaces/{workspace}/members", {"email": "e" * 255}, "email"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), TOO_LONG)
def test_a_text_field_longer_than_its_cap_is_a_422(alice, method, path, body, field):
    project = make_project(alice)
    workspace = Membership.objects.get(user=alice).workspace
    url = path.format(project=project.pk, workspace=workspace.pk)
    response = getattr(key_client(alice), method)(url, body, content_type="application/json")
    assert field in assert_error(response, 422, "validation_error")["detail"]
    assert Project.objects.count() == 1 and not Experiment.objects.exists()


@pytest.mark.parametrize(
    "plan",
    [
        {"kind": "compare", "sort": "s" * 65},
        {"kind": "tune", "model_id": "lr", "optimize": "o" * 65},
        {"kind": "create", "model_id": "m" * 65},
    ],
)
def test_a_plan_field_longer_than_its_cap_is_a_422(alice, plan):
    project = make_project(alice)
    dataset = make_dataset(project, breast_cancer_frame().head(60))
    experiment = make_experiment(dataset, target="target")
    response = key_client(alice).post(
        f"/api/v1/experiments/{experiment.pk}/runs", {"plan": plan}, content_type="application/json"
    )
    assert "plan" in assert_error(response, 422, "validation_error")["detail"]
    assert not experiment.runs.exists()


def test_a_dataset_name_longer_than_its_cap_is_a_422(alice):
    project = make_project(alice)
    data = csv_bytes(breast_cancer_frame().head(20))
    response = key_client(alice).post(
        f"/api/v1/projects/{project.pk}/datasets",
        {"file": SimpleUploadedFile("a.csv", data), "name": "d" * 201},
    )
    assert "name" in assert_error(response, 422, "validation_error")["detail"]
    assert not Dataset.objects.exists()


def test_the_project_form_caps_the_description(alice_client):
    response = alice_client.post("/projects/new/", {"name": "Churn", "description": "d" * 2001})
    assert not Project.objects.exists()
    assert "at most 2000 characters" in response.content.decode()


# Broken multipart bodies to the dataset upload: a JSON 400 (or 422), and nothing stored.


@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART)
def test_a_broken_multipart_dataset_upload_is_a_json_400_or_422(alice, content_type, body):
    project = make_project(alice)
    response = key_client(alice).post(
        f"/api/v1/projects/{project.pk}/datasets", body, content_type=content_type
    )
    assert response.status_code in (400, 422), response.content[:300]
    assert_error(response, response.status_code)
    assert not Dataset.objects.exists()


# The OpenAPI schema documents the errors of every route, with one error schema.


def test_the_schema_documents_the_errors_of_every_route():
    schema = openapi()
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert error["properties"]["detail"]["type"] == "string"
    reference = {"$ref": "#/components/schemas/Error"}
    for method, path, operation in operations():
        responses = operation["responses"]
        expected = {"500"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if path not in PUBLIC:
            expected |= {"401", "403", "404", "429"}
        if method in ("post", "patch", "put", "delete"):
            expected |= {"400", "409", "413"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == reference


def test_a_dataset_is_still_uploaded_through_the_checks(alice):
    # The parser and the size check sit in front of every upload: a good one still passes.
    project = make_project(alice)
    data = csv_bytes(breast_cancer_frame().head(50))
    response = key_client(alice).post(
        f"/api/v1/projects/{project.pk}/datasets",
        {"file": SimpleUploadedFile("cancer.csv", data), "name": "Cancer"},
    )
    assert response.status_code == 201, response.content
    assert Dataset.objects.get().name == "Cancer"
