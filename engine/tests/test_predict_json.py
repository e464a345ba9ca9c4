"""The predict route's JSON: bodies parsed by orjson, with json for what orjson refuses, and
answers rendered by orjson, with the API's renderer for anything but plain JSON data."""

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory

from accounts.services import api_key_create
from engine.tests.factories import as_records, make_deployment, sample_rows
from pycaret_studio.api import api, plain_json_response

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.django_db]


@pytest.fixture
def deployment(db, media, alice):
    return make_deployment(alice)


@pytest.fixture
def post(deployment, alice):
    _, token = api_key_create(user=alice, name="json", scopes=["predict"])
    client = Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)

    def post(body: bytes):
        return client.post(
            f"/api/v1/deployments/{deployment.slug}/predict", body, content_type="application/json"
        )

    return post


@pytest.fixture
def rows():
    return as_records(sample_rows("classifier", n=3))


def test_a_predict_answer_is_the_same_json(post, rows):
    response = post(json.dumps({"rows": rows}).encode())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert len(body["predictions"]) == 3
    assert set(body["predictions"][0]) == {"label", "score", "probabilities"}


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-16"),  # orjson reads UTF-8 only
        lambda text: b"\xef\xbb\xbf" + text.encode(),  # a byte order mark
    ],
    ids=["utf-16", "bom"],
)
def test_bodies_orjson_refuses_are_read_by_json(post, rows, encode):
    response = post(encode(json.dumps({"rows": rows})))
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 3


def test_nan_and_bad_json_are_still_400(post, rows):
    text = json.dumps({"rows": rows}).replace("[{", '[{"x": NaN, ', 1)
    response = post(text.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "bad_json"
    assert post(b'{"rows": [').json()["code"] == "bad_json"


def test_a_nul_in_a_cell_is_named(post, rows):
    rows[0][next(iter(rows[0]))] = "a\u0000b"
    for body in (json.dumps({"rows": rows}).encode(), json.dumps({"rows": rows}).encode("utf-16")):
        response = post(body)
        assert response.status_code == 422
        assert "NUL" in response.json()["detail"]


def test_plain_json_response_falls_back_to_the_api_renderer():
    request = RequestFactory().get("/api/v1/")
    for other in ({"at": datetime.datetime(2026, 11, 30, 9, 1, 2, 345678)}, {"x": Decimal("1.5")}):
        assert plain_json_response(request, other, status=200).content == (
            api.create_response(request, other, status=200).content
        )
    assert json.loads(
        plain_json_response(request, {"score": float("nan")}, status=200).content
    ) == {"score": None}
