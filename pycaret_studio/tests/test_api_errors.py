"""The API answers errors as JSON {detail, code}, never Django's HTML pages."""

import json

import pytest

pytestmark = pytest.mark.django_db


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
