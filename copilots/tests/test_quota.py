"""The workspace's daily quota of copilot calls: past it, 429 naming the quota and its setting,
on the API and on the cards; yesterday's calls do not count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from copilots.models import Consultation
from copilots.tests.factories import make_churn_experiment, make_failed_run

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def run(alice):
    return make_failed_run(make_churn_experiment(alice))


def debug(client, run):
    return client.post("/api/v1/llm/debug-run", {"run_id": run.pk}, content_type="application/json")


def test_copilot_calls_past_the_daily_quota_get_429(alice_client, run, settings):
    settings.STUDIO_QUOTA_COPILOT_CALLS_PER_DAY = 2
    assert [debug(alice_client, run).status_code for _ in range(2)] == [200, 200]
    refused = debug(alice_client, run)
    assert refused.status_code == 429
    body = refused.json()
    assert (body["code"], body["quota"]) == ("quota_exceeded", "STUDIO_QUOTA_COPILOT_CALLS_PER_DAY")
    assert "STUDIO_QUOTA_COPILOT_CALLS_PER_DAY" in body["detail"]
    assert Consultation.objects.count() == 2
    card = alice_client.post(f"/copilots/runs/{run.pk}/diagnose/", **HX)
    assert card.status_code == 429
    assert "STUDIO_QUOTA_COPILOT_CALLS_PER_DAY" in card.content.decode()


def test_yesterdays_calls_do_not_count(alice_client, run, settings):
    settings.STUDIO_QUOTA_COPILOT_CALLS_PER_DAY = 1
    assert debug(alice_client, run).status_code == 200
    Consultation.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert debug(alice_client, run).status_code == 200


def test_the_quota_is_per_workspace(alice_client, bob_client, bob, run, settings):
    settings.STUDIO_QUOTA_COPILOT_CALLS_PER_DAY = 1
    assert debug(alice_client, run).status_code == 200
    bobs = make_failed_run(make_churn_experiment(bob, name="Bob's"))
    assert debug(bob_client, bobs).status_code == 200
