"""Datasets: upload through the page and the API, bad files, real-world shapes, the profile."""

import html
import io
import math

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import add_member, login_client, workspace_of
from engine.ingest import IngestError
from engine.models import Dataset
from engine.services.datasets import dataset_ingest
from engine.tests.factories import HTMX, breast_cancer_frame, make_dataset, make_project

pytestmark = pytest.mark.django_db

LIMIT_MB = 1


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.STUDIO_MAX_UPLOAD_MB = LIMIT_MB
    return settings.MEDIA_ROOT


@pytest.fixture
def project(alice):
    return make_project(alice, "Churn")


def files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


def rows(n: int, template: str = "{i},{j},x{i}\n") -> str:
    return "".join(template.format(i=i, j=i * 2) for i in range(n))


def api_upload(client, project, filename: str, data: bytes, **fields):
    return client.post(
        f"/api/v1/projects/{project.pk}/datasets",
        {"file": SimpleUploadedFile(filename, data), **fields},
    )


def page_upload(client, project, filename: str, data: bytes, *, htmx: bool = False):
    return client.post(
        reverse("dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile(filename, data)},
        **(HTMX if htmx else {}),
    )


# Every bad file, through every door: the API, the page, and the page under htmx.

MB = 1024 * 1024
BAD_FILES = [
    pytest.param(
        "big.csv",
        b"a,b\n" + b"1,2\n" * (LIMIT_MB * MB // 4 + 50_000),
        413,
        "too_large",
        "larger than this studio's upload limit of 1 MB",
        id="too-large",
    ),
    pytest.param(
        "edge.csv",
        b"a,b\n" + b"1" * (LIMIT_MB * MB),
        413,
        "too_large",
        "larger than this studio's upload limit of 1 MB",
        id="just-over-the-limit",
    ),
    pytest.param("empty.csv", b"", 422, "empty_file", "The file is empty.", id="empty"),
    pytest.param(
        "header.csv",
        b"a,b,c\n",
        422,
        "no_rows",
        "The file has a header but no data rows.",
        id="header-only",
    ),
    pytest.param(
        "binary.csv",
        bytes(range(256)) * 40,
        422,
        "not_text",
        "does not look like a text CSV file",
        id="binary",
    ),
    pytest.param(
        "dup.csv",
        ("id,price,id\n" + rows(12)).encode(),
        422,
        "bad_header",
        "Duplicate column names: 'id'",
        id="duplicate-columns",
    ),
    pytest.param(
        "blank.csv",
        ("a,,c\n" + rows(12)).encode(),
        422,
        "bad_header",
        "Empty column name at position 2",
        id="empty-column-name",
    ),
    pytest.param(
        "one.csv",
        ("a\n" + rows(20, "{i}\n")).encode(),
        422,
        "too_few_columns",
        "The file has 1 column; at least 2 are needed",
        id="one-column",
    ),
    pytest.param(
        "few.csv",
        ("a,b,c\n" + rows(5)).encode(),
        422,
        "too_few_rows",
        "The file has 5 data rows; at least 10 are needed",
        id="five-rows",
    ),
    pytest.param(
        "sheet.xlsx",
        b"PK\x03\x04" + bytes(200),
        422,
        "unsupported_format",
        "not a supported file type",
        id="unsupported-type",
    ),
]


@pytest.mark.parametrize("door", ["api", "page", "htmx"])
@pytest.mark.parametrize(("filename", "data", "status", "code", "message"), BAD_FILES)
def test_a_bad_file_is_refused_with_a_reason_and_leaves_nothing(
    alice_client, project, media, door, filename, data, status, code, message
):
    if door == "api":
        response = api_upload(alice_client, project, filename, data)
        assert response.status_code == status
        body = response.json()
        assert message in body["detail"]
        assert body["code"] == code
    else:
        response = page_upload(alice_client, project, filename, data, htmx=door == "htmx")
        assert response.status_code == status
        page = html.unescape(response.content.decode())
        assert message in page
        assert 'id="dataset-upload"' in page
        assert ("<html" in page) is (door == "page")
    assert not Dataset.objects.exists()
    assert files_under(media) == []


@pytest.mark.parametrize("door", ["api", "page"])
def test_an_oversized_upload_is_refused_before_the_body_is_read(alice, project, media, door):
    # A CSRF-enforcing client without a token: the 413 must come before the CSRF check,
    # which is what would read (and spool) the body.
    client = login_client(alice, csrf_checks=True)
    data = b"a,b\n" + b"1,2\n" * (2 * MB // 4)
    if door == "api":
        response = api_upload(client, project, "big.csv", data)
    else:
        response = page_upload(client, project, "big.csv", data)
    assert response.status_code == 413
    assert not Dataset.objects.exists()


def test_a_failed_database_insert_leaves_no_files(alice, project, media, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Dataset.objects, "create", fail)
    with pytest.raises(RuntimeError):
        make_dataset(project, breast_cancer_frame())
    assert files_under(media) == []


def test_the_service_refuses_a_file_over_the_limit(alice, project, media):
    upload = SimpleUploadedFile("big.csv", b"a,b\n" + b"1,2\n" * (LIMIT_MB * MB // 4 + 10))
    with pytest.raises(IngestError) as caught:
        dataset_ingest(project=project, file=upload, filename="big.csv", user=alice)
    assert caught.value.status == 413
    assert files_under(media) == []


def zstd_bomb(n_rows: int = 10_000_000) -> bytes:
    """About 87 KB of zstd Parquet that decodes to ten million rows."""
    zeros = np.zeros(n_rows, dtype=np.int64)
    buffer = io.BytesIO()
    pd.DataFrame({"a": zeros, "b": zeros * 0.5}).to_parquet(
        buffer, compression="zstd", index=False, row_group_size=n_rows
    )
    return buffer.getvalue()


@pytest.mark.parametrize("door", ["api", "page", "htmx"])
def test_a_decompression_bomb_is_refused_and_leaves_nothing(alice_client, project, media, door):
    bomb = zstd_bomb()
    assert len(bomb) < 200_000
    if door == "api":
        response = api_upload(alice_client, project, "bomb.parquet", bomb)
        body = response.json()
        assert body["code"] == "too_many_rows"
        message = body["detail"]
    else:
        response = page_upload(alice_client, project, "bomb.parquet", bomb, htmx=door == "htmx")
        message = html.unescape(response.content.decode())
    assert response.status_code == 413
    assert "The file has 10,000,000 rows" in message
    assert "(STUDIO_MAX_ROWS)" in message
    assert not Dataset.objects.exists()
    assert files_under(media) == []


@pytest.mark.parametrize("door", ["api", "page"])
def test_an_8000_column_csv_is_refused_with_a_clear_message(alice_client, project, media, door):
    header = ",".join(f"feature_{i}" for i in range(8_000))
    data = (header + "\n" + (",".join(["1"] * 8_000) + "\n") * 12).encode()
    if door == "api":
        response = api_upload(alice_client, project, "wide.csv", data)
        message = response.json()["detail"]
    else:
        response = page_upload(alice_client, project, "wide.csv", data)
        message = html.unescape(response.content.decode())
    assert response.status_code == 413
    assert "The file has 8,000 columns; this studio's limit is 2,000 (STUDIO_MAX_COLUMNS)." in (
        message
    )
    assert not Dataset.objects.exists()
    assert files_under(media) == []


def test_the_limits_come_from_the_settings(alice_client, project, media, settings):
    settings.STUDIO_MAX_ROWS = 20
    settings.STUDIO_MAX_COLUMNS = 3
    settings.STUDIO_MAX_COLUMN_NAME = 10
    long_csv = ("a,b\n" + rows(30, "{i},{j}\n")).encode()
    wide_csv = ("a,b,c,d\n" + rows(12, "{i},{j},1,2\n")).encode()
    named_csv = ("a,much_too_long_name\n" + rows(12, "{i},{j}\n")).encode()
    cases = [
        (long_csv, 413, "too_many_rows", "more than 20 rows; this studio's limit is 20"),
        (wide_csv, 413, "too_many_columns", "4 columns; this studio's limit is 3"),
        (named_csv, 422, "column_name_too_long", "18 characters long"),
    ]
    for data, status, code, message in cases:
        response = api_upload(alice_client, project, "limited.csv", data)
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert message in response.json()["detail"]
    settings.STUDIO_MAX_ROWS, settings.STUDIO_MAX_UNCOMPRESSED_MB = 1_000_000, 1
    zeros = pd.DataFrame({"a": np.zeros(200_000), "b": np.zeros(200_000)})
    buffer = io.BytesIO()
    zeros.to_parquet(buffer, index=False, compression="zstd", use_dictionary=False)
    assert buffer.tell() < MB
    response = api_upload(alice_client, project, "big.parquet", buffer.getvalue())
    assert (response.status_code, response.json()["code"]) == (413, "too_large_uncompressed")
    assert "limit is 1 MB (STUDIO_MAX_UNCOMPRESSED_MB)" in response.json()["detail"]
    assert not Dataset.objects.exists()
    assert files_under(media) == []


# Real-world shapes, through the API.


def test_semicolons_with_european_decimals(alice_client, project, media):
    text = "id;price;city\n" + "".join(f"{i};{i},5;Köln\n" for i in range(12))
    response = api_upload(alice_client, project, "prices.csv", text.encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["n_rows"], body["n_cols"]) == (12, 3)
    profile = alice_client.get(f"/api/v1/datasets/{body['id']}").json()
    price = next(c for c in profile["columns"] if c["name"] == "price")
    assert price["kind"] == "numeric"
    assert price["mean"] == pytest.approx(6.0)
    assert profile["delimiter"] == ";"


def test_a_utf8_bom_is_not_part_of_the_first_column_name(alice_client, project, media):
    data = b"\xef\xbb\xbf" + ("name,score\n" + rows(12, "n{i},{j}\n")).encode()
    body = api_upload(alice_client, project, "bom.csv", data).json()
    assert [c["name"] for c in body["columns"]] == ["name", "score"]


def test_utf16_with_a_bom_is_read(alice_client, project, media):
    data = ("name,score\n" + rows(12, "Zoë{i},{j}\n")).encode("utf-16")
    response = api_upload(alice_client, project, "utf16.csv", data)
    assert response.status_code == 201, response.json()
    detail = alice_client.get(f"/api/v1/datasets/{response.json()['id']}").json()
    assert detail["preview"][0]["name"] == "Zoë0"


def test_latin1_accents_are_read_with_a_warning(alice_client, project, media):
    data = ("name,city\n" + rows(12, "José{i},Málaga\n")).encode("latin-1")
    response = api_upload(alice_client, project, "latin.csv", data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert any("latin" in w.lower() or "encoding" in w.lower() for w in body["warnings"])
    detail = alice_client.get(f"/api/v1/datasets/{body['id']}").json()
    assert detail["preview"][0] == {"name": "José0", "city": "Málaga"}


def test_quoted_fields_with_newlines_and_delimiters(alice_client, project, media):
    text = "id,comment,score\n" + "".join(
        f'{i},"line one\nline two, with a comma",{i}\n' for i in range(12)
    )
    body = api_upload(alice_client, project, "quoted.csv", text.encode()).json()
    assert (body["n_rows"], body["n_cols"]) == (12, 3)
    detail = alice_client.get(f"/api/v1/datasets/{body['id']}").json()
    assert detail["preview"][0]["comment"] == "line one\nline two, with a comma"


def test_an_id_column_and_a_constant_column_are_flagged(alice_client, project, media):
    text = "customer_id,plan,spend\n" + "".join(f"C{i:04d},basic,{i % 7}\n" for i in range(30))
    body = api_upload(alice_client, project, "customers.csv", text.encode()).json()
    warnings = " ".join(body["warnings"])
    assert "'customer_id' has a different value in every row" in warnings
    assert "'plan' has the same value in every row" in warnings


def test_tab_separated_and_parquet_files(alice_client, project, media):
    tsv = ("a\tb\n" + rows(12, "{i}\t{j}\n")).encode()
    assert api_upload(alice_client, project, "t.tsv", tsv).json()["n_cols"] == 2
    buffer = io.BytesIO()
    breast_cancer_frame().to_parquet(buffer)
    response = api_upload(alice_client, project, "cancer.parquet", buffer.getvalue(), name="BC")
    assert response.status_code == 201
    assert response.json()["name"] == "BC"
    assert (response.json()["n_rows"], response.json()["n_cols"]) == (569, 31)


# The profile, on a small frame whose answers are known.


def test_profile_is_correct_on_a_known_frame(alice_client, project, media):
    text = (
        "x,y,colour\n"
        "1,0.5,red\n2,1.5,red\n3,,blue\n4,2.5,red\n5,inf,green\n"
        "6,3.5,blue\n7,4.5,red\n8,-inf,\n9,5.5,red\n10,6.5,blue\n"
    )
    response = api_upload(alice_client, project, "known.csv", text.encode())
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["columns"] == [
        {"name": "x", "dtype": "int64", "kind": "numeric", "missing": 0, "unique": 10},
        {"name": "y", "dtype": "float64", "kind": "numeric", "missing": 3, "unique": 7},
        {"name": "colour", "dtype": "string", "kind": "categorical", "missing": 1, "unique": 3},
    ]
    detail = alice_client.get(f"/api/v1/datasets/{created['id']}").json()
    x, y, colour = detail["columns"]
    assert (x["min"], x["max"], x["mean"]) == (1, 10, 5.5)
    assert x["std"] == pytest.approx(np.std(np.arange(1, 11), ddof=1))
    assert sum(x["histogram"]["counts"]) == 10
    finite = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]
    assert y["inf_count"] == 2
    assert (y["min"], y["max"]) == (0.5, 6.5)
    assert y["mean"] == pytest.approx(sum(finite) / len(finite))
    assert y["std"] == pytest.approx(pd.Series(finite).std())
    assert sum(y["histogram"]["counts"]) == 7
    assert colour["top"] == [
        {"value": "red", "count": 5},
        {"value": "blue", "count": 3},
        {"value": "green", "count": 1},
    ]
    assert any("'y': 2 infinite values" in w for w in detail["warnings"])
    assert len(detail["preview"]) == 10
    assert detail["sha256"] == __import__("hashlib").sha256(text.encode()).hexdigest()
    assert not any(
        isinstance(v, float) and not math.isfinite(v)
        for row in detail["preview"]
        for v in row.values()
    )


# Pages.


def test_upload_page_redirects_to_the_dataset(alice_client, project, media):
    response = page_upload(
        alice_client, project, "cancer.csv", breast_cancer_frame().to_csv(index=False).encode()
    )
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dataset_detail", args=[dataset.pk])
    assert dataset.name == "cancer.csv"
    stored = [p.name for p in files_under(media)]
    assert sorted(stored) == ["data.parquet", "original.csv"]


def test_upload_with_htmx_returns_the_form_and_an_event(alice_client, project, media):
    data = breast_cancer_frame().to_csv(index=False).encode()
    response = page_upload(alice_client, project, "cancer.csv", data, htmx=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="dataset-upload"' in page
    assert "569 rows × 31 columns" in page
    assert "<html" not in page
    assert "datasetUploaded" in response["HX-Trigger"]


def test_upload_without_a_file_is_422(alice_client, project, media):
    response = alice_client.post(reverse("dataset_upload", args=[project.pk]), {}, **HTMX)
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert api_upload_missing(alice_client, project).status_code == 422


def api_upload_missing(client, project):
    return client.post(f"/api/v1/projects/{project.pk}/datasets", {})


def test_dataset_page_full_and_fragment(alice_client, project, media):
    dataset = make_dataset(project, breast_cancer_frame(), name="cancer.csv")
    url = reverse("dataset_detail", args=[dataset.pk])
    full = alice_client.get(url).content.decode()
    assert "<html" in full
    assert "<svg" in full
    assert "mean radius" in full
    assert "569" in full
    assert reverse("dataset_download", args=[dataset.pk]) in full
    assert "Analyze" in full
    assert 'id="experiment-form"' in full
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert 'id="dataset-body"' in fragment
    assert "<html" not in fragment


def test_dataset_page_escapes_column_names_and_values(alice_client, project, media):
    frame = pd.DataFrame(
        {"<script>alert(1)</script>": range(12), "label": ["<b>bold</b>"] * 6 + ["x"] * 6}
    )
    dataset = make_dataset(project, frame)
    page = alice_client.get(reverse("dataset_detail", args=[dataset.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page


def test_download_serves_the_original_bytes(alice_client, project, media):
    data = breast_cancer_frame().to_csv(index=False).encode()
    make_dataset(project, breast_cancer_frame(), name="cancer.csv")
    dataset = Dataset.objects.get()
    response = alice_client.get(reverse("dataset_download", args=[dataset.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert 'attachment; filename="cancer.csv"' in response["Content-Disposition"]


# Bob cannot see or upload to alice's datasets.


def test_bob_gets_404_on_alices_datasets(bob_client, project, media):
    dataset = make_dataset(project, breast_cancer_frame())
    assert bob_client.get(f"/api/v1/datasets/{dataset.pk}").status_code == 404
    assert bob_client.get(f"/api/v1/projects/{project.pk}/datasets").status_code == 404
    assert bob_client.get(reverse("dataset_detail", args=[dataset.pk])).status_code == 404
    assert bob_client.get(reverse("dataset_download", args=[dataset.pk])).status_code == 404


@pytest.mark.parametrize("door", ["api", "page"])
def test_bob_cannot_upload_to_alices_project(bob_client, project, media, door):
    data = breast_cancer_frame().to_csv(index=False).encode()
    upload = api_upload if door == "api" else page_upload
    assert upload(bob_client, project, "x.csv", data).status_code == 404
    assert not Dataset.objects.exists()
    assert files_under(media) == []


def test_a_viewer_cannot_upload(alice, charlie, project, media):
    add_member(workspace_of(alice), charlie, Role.VIEWER)
    client = login_client(charlie)
    data = breast_cancer_frame().to_csv(index=False).encode()
    assert api_upload(client, project, "x.csv", data).status_code == 403
    assert page_upload(client, project, "x.csv", data).status_code == 403
    assert not Dataset.objects.exists()


def test_seed_demo_uploads_breast_cancer_once(media, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", "a-demo-password-for-tests")
    call_command("seed_demo", "--no-train", stdout=io.StringIO())
    call_command("seed_demo", "--no-train", stdout=io.StringIO())
    dataset = Dataset.objects.get(name="breast_cancer.csv")
    assert (dataset.n_rows, dataset.n_cols) == (569, 31)
    assert dataset.project.name == "Breast cancer screening"
    series = Dataset.objects.get(name="passengers.csv")  # the forecasting demo's
    assert (series.n_rows, series.n_cols, series.project.name) == (144, 2, "Airline passengers")
    assert Dataset.objects.count() == 2
    assert len(files_under(media)) == 4


def test_upload_with_an_api_key_needs_the_write_scope(client, alice, project, media):
    from accounts.services import api_key_create

    _, writer = api_key_create(user=alice, name="ci", scopes=["read", "write"])
    _, reader = api_key_create(user=alice, name="ro", scopes=["read"])
    data = breast_cancer_frame().to_csv(index=False).encode()
    url = f"/api/v1/projects/{project.pk}/datasets"
    refused = client.post(
        url, {"file": SimpleUploadedFile("x.csv", data)}, HTTP_X_PYCARET_KEY=reader
    )
    assert refused.status_code == 403
    assert not Dataset.objects.exists()
    created = client.post(
        url, {"file": SimpleUploadedFile("x.csv", data)}, HTTP_X_PYCARET_KEY=writer
    )
    assert created.status_code == 201
    assert created.json()["n_rows"] == 569
