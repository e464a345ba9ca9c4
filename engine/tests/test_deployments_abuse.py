"""Deployments under careless and hostile clients: numbers past the float range, broken
multipart bodies and oversized batch uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse

from accounts.models import Scope
from accounts.services import api_key_create
from accounts.tests.factories import login_client
from engine import serving
from engine.models import BatchPrediction
from engine.storage import batch_prefix, list_names
from engine.tests.factories import (
    BROKEN_MULTIPART,
    HTMX,
    as_records,
    make_deployment,
    make_succeeded_run,
    sample_rows,
)

pytestmark = [pytest.mark.filterwarnings("ignore")]

MB = 1024 * 1024


@pytest.fixture
def deployment(db, media, alice):
    return make_deployment(alice)


def key_client(user) -> Client:
    _, token = api_key_create(user=user, name="abuse", scopes=[s.value for s in Scope])
    return Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)


def stored_batch_files(deployment) -> list:
    return list_names(batch_prefix(deployment.pk))


# A number past the float range is a bad cell, named, not a server error.


@pytest.mark.django_db
def test_a_310_digit_integer_in_a_row_is_a_422_naming_the_row_and_column(alice, deployment):
    serving.cache_clear()
    rows = as_records(sample_rows("classifier", n=2))
    rows[1]["mean radius"] = 10**309
    response = key_client(alice).post(
        f"/api/v1/deployments/{deployment.slug}/predict",
        {"rows": rows},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert "rows[1], column 'mean radius'" in body["detail"]
    assert "too large" in body["detail"]
    assert body["errors"] == [
        {"row": 1, "column": "mean radius", "message": body["errors"][0]["message"]}
    ]


# Broken multipart bodies to a batch upload: a JSON 400 that says so, and nothing stored.


@pytest.mark.django_db
@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART)
def test_a_broken_multipart_batch_upload_is_a_json_400_or_422(
    alice, deployment, content_type, body
):
    response = key_client(alice).post(
        f"/api/v1/deployments/{deployment.slug}/batch", body, content_type=content_type
    )
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) >= {"detail", "code"}
    assert not BatchPrediction.objects.exists()
    assert stored_batch_files(deployment) == []


# An oversized batch upload is refused from its Content-Length, before the body is read.


@pytest.fixture
def body_reads(monkeypatch):
    """Each multipart body Django parses (what spools an upload to disk)."""
    reads = []
    original = MultiPartParser.parse

    def parse(self):
        reads.append(self)
        return original(self)

    monkeypatch.setattr(MultiPartParser, "parse", parse)
    return reads


def big_csv() -> SimpleUploadedFile:
    header = b"mean radius,mean texture\n"
    return SimpleUploadedFile("big.csv", header + b"1.5,2.5\n" * (2 * MB // 8), "text/csv")


@pytest.mark.django_db
def test_an_oversized_batch_upload_to_the_api_is_refused_before_it_is_read(
    settings, alice, deployment, body_reads
):
    settings.STUDIO_MAX_UPLOAD_MB = 1
    response = key_client(alice).post(
        f"/api/v1/deployments/{deployment.slug}/batch", {"file": big_csv()}
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The file is larger than this studio's upload limit of 1 MB "
        "(STUDIO_MAX_UPLOAD_MB).",
        "code": "too_large",
    }
    assert body_reads == []
    assert not BatchPrediction.objects.exists()


@pytest.mark.django_db
def test_an_oversized_batch_upload_on_the_page_is_refused_before_the_csrf_check(
    settings, alice, deployment, body_reads
):
    # The CSRF check reads the body, so without a token the 413 must come first.
    settings.STUDIO_MAX_UPLOAD_MB = 1
    client = login_client(alice, csrf_checks=True)
    url = reverse("deployment_batches", args=[deployment.slug])
    response = client.post(url, {"file": big_csv()}, **HTMX)
    assert response.status_code == 413
    fragment = response.content.decode()
    assert 'id="batches"' in fragment and "upload limit of 1 MB" in fragment
    assert body_reads == []
    assert not BatchPrediction.objects.exists()


@pytest.mark.django_db
def test_a_batch_upload_on_the_page_still_needs_the_csrf_token(alice, deployment):
    client = login_client(alice, csrf_checks=True)
    url = reverse("deployment_batches", args=[deployment.slug])
    upload = SimpleUploadedFile("s.csv", sample_rows("classifier", n=3).to_csv().encode())
    response = client.post(url, {"file": upload}, **HTMX)
    assert response.status_code == 403
    assert not BatchPrediction.objects.exists()


# NUL characters from the pages, which read some fields without a form (PostgreSQL stores none).


def test_a_nul_character_in_a_text_cell_is_a_bad_cell_named_by_row_and_column():
    schema = [{"name": "colour", "kind": "categorical", "dtype": "object"}]
    with pytest.raises(serving.InputError) as caught:
        serving.prepare_rows([{"colour": "red"}, {"colour": "re\x00d"}], schema, max_rows=10)
    assert caught.value.status == 422
    assert "rows[1], column 'colour'" in caught.value.message
    assert "NUL" in caught.value.message


@pytest.mark.django_db
def test_a_nul_character_in_a_promoted_name_from_the_page_is_refused(alice, media):
    run = make_succeeded_run(alice, "classifier")
    response = login_client(alice).post(
        reverse("run_promote", args=[run.pk]), {"name": "Cancer\x00screening"}, **HTMX
    )
    assert response.status_code == 422
    assert "NUL" in response.content.decode()
    assert not run.pipelines.exists()
