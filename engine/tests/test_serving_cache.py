"""The predict path's per-process cache of API keys and deployments: a change made here takes
effect at once, another workspace's slug stays a 404, and the cache never holds a key."""

import logging
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.access import role_cache_key
from accounts.auth import key_cache_key
from accounts.models import ApiKey, Membership, Role
from accounts.services import api_key_create, api_key_hash, api_key_revoke
from accounts.services.members import member_change_role, member_remove
from engine.selectors.deployments import deployment_cache_key
from engine.services.deployments import (
    deployment_activate,
    deployment_deactivate,
    deployment_deploy,
    deployment_rollback,
)
from engine.services.pipelines import pipeline_promote
from engine.tests.factories import as_records, make_deployment, make_succeeded_run, sample_rows

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.django_db(transaction=False)]


@pytest.fixture
def deployment(db, media, alice):
    return make_deployment(alice)


@pytest.fixture
def rows():
    return as_records(sample_rows("classifier", n=2))


def key_of(user, scopes=("predict",)) -> tuple[ApiKey, str]:
    return api_key_create(user=user, name="cache", scopes=list(scopes))


def predict(token: str, slug: str, rows):
    client = Client(HTTP_X_PYCARET_KEY=token, raise_request_exception=False)
    return client.post(
        f"/api/v1/deployments/{slug}/predict", {"rows": rows}, content_type="application/json"
    )


def test_a_revoked_key_is_refused_at_once(deployment, alice, rows):
    key, token = key_of(alice)
    assert predict(token, deployment.slug, rows).status_code == 200
    assert caches["serving"].get(key_cache_key(api_key_hash(token))) is not None

    api_key_revoke(key=key, by=alice)

    response = predict(token, deployment.slug, rows)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key."


def test_a_deactivated_owner_is_refused_at_once(deployment, alice, rows):
    _, token = key_of(alice)
    assert predict(token, deployment.slug, rows).status_code == 200

    alice.is_active = False
    alice.save()

    assert predict(token, deployment.slug, rows).status_code == 401


def test_a_deactivated_deployment_answers_409_at_once_and_200_once_active(deployment, alice, rows):
    _, token = key_of(alice)
    assert predict(token, deployment.slug, rows).status_code == 200
    assert caches["serving"].get(deployment_cache_key(deployment.slug)) is not None

    deployment_deactivate(deployment=deployment, user=alice)
    response = predict(token, deployment.slug, rows)
    assert response.status_code == 409
    assert response.json()["code"] == "inactive"

    deployment_activate(deployment=deployment, user=alice)
    assert predict(token, deployment.slug, rows).status_code == 200


def test_a_deploy_and_a_rollback_change_the_served_version_at_once(deployment, alice, rows):
    _, token = key_of(alice)
    first = predict(token, deployment.slug, rows).json()
    run = make_succeeded_run(alice, "classifier", project=deployment.project)
    newer = pipeline_promote(run=run, user=alice, name="Cancer screening")
    deployment_deploy(acknowledge_risks=True, pipeline=newer, user=alice, slug=deployment.slug)

    assert predict(token, deployment.slug, rows).json()["pipeline_id"] == newer.pk

    deployment.refresh_from_db()
    deployment_rollback(deployment=deployment, user=alice)
    assert predict(token, deployment.slug, rows).json()["pipeline_id"] == first["pipeline_id"]


def test_another_workspace_slug_is_404_when_cached(deployment, alice, bob, rows):
    _, alice_token = key_of(alice)
    _, bob_token = key_of(bob)
    assert predict(alice_token, deployment.slug, rows).status_code == 200  # now cached

    response = predict(bob_token, deployment.slug, rows)
    assert response.status_code == 404
    assert response.json()["detail"] == "No such deployment."


def test_a_key_without_predict_is_403_when_cached(deployment, alice, rows):
    _, predict_token = key_of(alice)
    _, read_token = key_of(alice, scopes=("read",))
    assert predict(predict_token, deployment.slug, rows).status_code == 200

    assert predict(read_token, deployment.slug, rows).status_code == 403


def test_a_cached_request_reads_no_table(deployment, alice, rows):
    _, token = key_of(alice)
    assert predict(token, deployment.slug, rows).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert predict(token, deployment.slug, rows).status_code == 200
    # The key, the deployment and the caller's role all come from the serving cache; the
    # scope and permission checks still run on them (the tests above and below). What is
    # left is the request log (written at once in tests, STUDIO_PREDICTION_LOG_FLUSH_S=0, with
    # COPY, which Django's query log does not see).
    assert [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"]] == []
    assert deployment.prediction_requests.count() == 2


@pytest.fixture
def bob_member(deployment, bob):
    workspace = deployment.project.workspace
    return Membership.objects.create(user=bob, workspace=workspace, role=Role.MEMBER)


def test_a_removed_member_is_refused_at_once(deployment, alice, bob, bob_member, rows):
    _, token = key_of(bob)
    assert predict(token, deployment.slug, rows).status_code == 200
    workspace = deployment.project.workspace
    assert caches["serving"].get(role_cache_key(bob.pk, workspace.pk)) == Role.MEMBER

    member_remove(membership=bob_member, by=alice)

    assert predict(token, deployment.slug, rows).status_code == 404


def test_a_member_made_viewer_loses_predict_at_once(deployment, alice, bob, bob_member, rows):
    _, token = key_of(bob)
    assert predict(token, deployment.slug, rows).status_code == 200

    member_change_role(membership=bob_member, role=Role.VIEWER, by=alice)

    response = predict(token, deployment.slug, rows)
    assert response.status_code == 403
    assert "'predict' permission" in response.json()["detail"]


def test_a_role_changed_by_another_process_applies_once_the_ttl_has_passed(
    deployment, bob, bob_member, rows, settings
):
    settings.STUDIO_SERVING_CACHE_S = 0.3
    _, token = key_of(bob)
    assert predict(token, deployment.slug, rows).status_code == 200
    # Another process's change: the row changes, this process's cache is not told.
    Membership.objects.filter(pk=bob_member.pk).update(role=Role.VIEWER)
    time.sleep(0.4)
    assert predict(token, deployment.slug, rows).status_code == 403


def test_a_non_member_is_cached_as_one_and_still_refused(deployment, bob, rows):
    _, token = key_of(bob)
    for _ in range(2):
        assert predict(token, deployment.slug, rows).status_code == 404


def test_the_cache_and_the_logs_never_hold_the_key(deployment, alice, rows, caplog):
    _, token = key_of(alice)
    with caplog.at_level(logging.DEBUG):
        assert predict(token, deployment.slug, rows).status_code == 200
    names = list(caches["serving"]._cache)  # LocMemCache's own store
    assert any(api_key_hash(token) in name for name in names)
    assert not any(token in name or token[:12] in name for name in names)
    assert token not in caplog.text
