"""GET /api/v1/health against the real database and broker."""

import copy
import os

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections

from pycaret_studio.tests.support import IN_CI

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_real_services(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.skipif(not IN_CI, reason="CI runs on PostgreSQL and Redis; locally any backend works")
def test_ci_really_uses_postgresql_and_redis():
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL


def test_health_names_the_broker_when_it_is_unreachable(client):
    from pycaret_studio.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/api/v1/health")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == "unreachable"
    assert body["database"] == "ok"
    assert "broker" in body["detail"]


def unreachable_database():
    """A second connection to the test database's engine at an address where nothing answers:
    for SQLite, a file in a folder that does not exist; for PostgreSQL, a closed port."""
    dead = copy.deepcopy(connection.settings_dict)
    if connection.vendor == "sqlite":
        dead["NAME"] = "/nonexistent-folder/studio.sqlite3"
    else:
        dead.update(HOST="127.0.0.1", PORT=9)  # the discard port: nothing listens
        dead.setdefault("OPTIONS", {})["connect_timeout"] = 2
    return type(connections["default"])(dead, alias="unreachable")


def test_health_is_503_when_the_database_is_unreachable(client, monkeypatch):
    dead = unreachable_database()
    with pytest.raises(OperationalError):
        dead.ensure_connection()  # the premise: this connection really fails
    monkeypatch.setattr("pycaret_studio.health.connection", dead)
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "broker": "ok",
        "detail": "Unreachable: database.",
        "code": "unavailable",
    }
