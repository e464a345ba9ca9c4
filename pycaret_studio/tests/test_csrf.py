"""CSRF on every door a logged-in browser uses: the API's session auth, an htmx form, and the
dataset upload (which checks CSRF by hand, after its size check).

Each door twice, with a client that enforces CSRF as a browser's requests are checked: without a
token the write is refused with 403 and nothing changes; with the token a page handed out, it is
accepted.
"""

import html
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.services import api_key_create
from accounts.tests.factories import login_client
from engine.models import Dataset, Project
from engine.tests.factories import HTMX, breast_cancer_frame, csv_bytes, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(alice):
    """alice, logged in, through a client that checks CSRF."""
    return login_client(alice, csrf_checks=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def cookie_token(client) -> str:
    """The csrftoken cookie a page sets (what a script sends back as X-CSRFToken)."""
    assert client.get(reverse("dashboard")).status_code == 200
    return client.cookies["csrftoken"].value


def hx_headers_token(client) -> str:
    """The token htmx sends: the one base.html puts in the body's hx-headers."""
    page = client.get(reverse("dashboard")).content.decode()
    headers = re.search(r"<body hx-headers='([^']+)'>", page).group(1)
    return json.loads(html.unescape(headers))["x-csrftoken"]


def form_token(client, url: str) -> str:
    """The csrfmiddlewaretoken field of the form on the page at `url`."""
    page = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


# The API, with the session cookie.


def test_an_api_write_with_the_session_needs_the_csrf_token(browser_client, alice):
    refused = browser_client.post("/api/v1/projects", {"name": "Churn"}, "application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert "CSRF" in refused.json()["detail"]
    assert not Project.objects.exists()

    accepted = browser_client.post(
        "/api/v1/projects",
        {"name": "Churn"},
        "application/json",
        HTTP_X_CSRFTOKEN=cookie_token(browser_client),
    )
    assert accepted.status_code == 201
    assert Project.objects.get().name == "Churn"


def test_a_wrong_token_is_as_good_as_none(browser_client):
    cookie_token(browser_client)
    response = browser_client.post(
        "/api/v1/projects", {"name": "Churn"}, "application/json", HTTP_X_CSRFTOKEN="x" * 32
    )
    assert response.status_code == 403
    assert not Project.objects.exists()


def test_an_api_key_needs_no_csrf_token(alice):
    # A key is not ambient: no browser sends it on its own, so there is nothing to forge.
    _, token = api_key_create(user=alice, name="script", scopes=["read", "write"])
    client = login_client(alice, csrf_checks=True)
    client.logout()
    response = client.post(
        "/api/v1/projects", {"name": "Churn"}, "application/json", HTTP_X_PYCARET_KEY=token
    )
    assert response.status_code == 201
    assert Project.objects.get().name == "Churn"


# An htmx form.


def test_an_htmx_form_post_needs_the_token_from_hx_headers(browser_client, alice):
    url = reverse("project_create")
    refused = browser_client.post(url, {"name": "Churn"}, **HTMX)
    assert refused.status_code == 403
    assert not Project.objects.exists()

    accepted = browser_client.post(
        url, {"name": "Churn"}, HTTP_X_CSRFTOKEN=hx_headers_token(browser_client), **HTMX
    )
    assert accepted.status_code == 200
    assert 'id="projects"' in accepted.content.decode()
    assert Project.objects.get().name == "Churn"


# The dataset upload: CSRF checked by hand, once the size is known to be acceptable.


def test_the_dataset_upload_page_needs_the_token(browser_client, alice, media):
    project = make_project(alice)
    url = reverse("dataset_upload", args=[project.pk])
    data = csv_bytes(breast_cancer_frame())

    refused = browser_client.post(url, {"file": SimpleUploadedFile("cancer.csv", data)})
    assert refused.status_code == 403
    assert not Dataset.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []

    token = form_token(browser_client, reverse("project_detail", args=[project.pk]))
    accepted = browser_client.post(
        url, {"file": SimpleUploadedFile("cancer.csv", data), "csrfmiddlewaretoken": token}
    )
    dataset = Dataset.objects.get()
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("dataset_detail", args=[dataset.pk])
    assert (dataset.name, dataset.n_rows) == ("cancer.csv", 569)


def test_the_dataset_upload_api_with_the_session_needs_the_token(browser_client, alice, media):
    project = make_project(alice)
    url = f"/api/v1/projects/{project.pk}/datasets"
    data = csv_bytes(breast_cancer_frame())

    refused = browser_client.post(url, {"file": SimpleUploadedFile("cancer.csv", data)})
    assert refused.status_code == 403
    assert not Dataset.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []

    accepted = browser_client.post(
        url,
        {"file": SimpleUploadedFile("cancer.csv", data)},
        HTTP_X_CSRFTOKEN=cookie_token(browser_client),
    )
    assert accepted.status_code == 201
    assert accepted.json()["n_rows"] == 569
    assert Dataset.objects.get().pk == accepted.json()["id"]
