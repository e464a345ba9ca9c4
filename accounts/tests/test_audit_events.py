"""The audit trail: sign-in, failed sign-in, sign-out and sign-up, the domain's creations, copilot
consultations; and the workspace's audit log page, for its owners and admins only."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.tests.factories import PASSWORD, add_member, login_client, workspace_of
from accounts.views import AUDIT_PAGE_SIZE
from engine.tests.factories import HTMX, breast_cancer_frame, make_dataset, make_project

pytestmark = pytest.mark.django_db


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("id")


# Signing in, out and up.


def test_sign_in_and_sign_out_are_audited(client, alice):
    signed_in = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 302
    event = events("auth.signed_in").get()
    assert (event.actor, event.ip, event.target_type) == (alice, "127.0.0.1", "user")
    assert client.post(reverse("accounts:logout")).status_code == 302
    event = events("auth.signed_out").get()
    assert (event.actor, event.ip) == (alice, "127.0.0.1")


def test_failed_sign_in_records_the_name_never_the_password(client, alice):
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": "hunter2-wrong"}
    )
    assert response.status_code == 200
    event = events("auth.sign_in_failed").get()
    assert event.actor is None and event.ip == "127.0.0.1"
    assert event.metadata == {"username": "alice"}
    assert "hunter2" not in json.dumps(event.metadata)
    assert not events("auth.signed_in").exists()


def test_failed_sign_ins_past_the_lockout_are_not_recorded(client, alice, settings):
    """The failures that lead to a lockout are recorded; once django-axes has locked the name
    out (it keeps its own record), more attempts do not flood the audit log."""
    limit = settings.AXES_FAILURE_LIMIT

    def fail(times: int) -> int:
        for _ in range(times):
            client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
        return events("auth.sign_in_failed").count()

    before_lockout = fail(limit - 1)
    assert before_lockout == limit - 1
    assert fail(10) <= limit  # locked out from the limit on


def test_sign_up_is_audited_with_the_personal_workspace(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "dora",
            "email": "dora@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    dora = User.objects.get(username="dora")
    event = events("auth.signed_up").get()
    assert (event.actor, event.workspace, event.ip) == (dora, workspace_of(dora), "127.0.0.1")
    assert PASSWORD not in json.dumps(event.metadata)
    assert events("auth.signed_in").get().actor == dora  # signup signs the new user in


def test_api_key_events_never_hold_the_key(alice_client, alice):
    response = alice_client.post(
        "/api/v1/auth/api-keys", {"name": "ci", "scopes": ["read"]}, "application/json"
    )
    assert response.status_code == 201
    plaintext = response.json()["token"]
    event = events("api_key.created").get()
    assert plaintext not in json.dumps(event.metadata)
    assert plaintext[12:] not in json.dumps(event.metadata)


# What members create.


def test_project_dataset_and_experiment_creation_are_audited(alice_client, alice):
    response = alice_client.post("/api/v1/projects", {"name": "Audited"}, "application/json")
    assert response.status_code == 201
    project_id = response.json()["id"]
    project = events("project.created").get()
    assert (project.actor, project.target_id, project.ip) == (alice, str(project_id), "127.0.0.1")
    assert project.workspace == workspace_of(alice)
    assert project.metadata["name"] == "Audited"

    from engine.models import Project

    dataset = make_dataset(
        Project.objects.get(pk=project_id), breast_cancer_frame().head(60), name="cells.csv"
    )
    recorded = events("dataset.created").get()
    assert (recorded.actor, recorded.target_id) == (alice, str(dataset.pk))
    assert recorded.metadata["rows"] == 60 and recorded.metadata["name"] == "cells.csv"

    created = alice_client.post(
        f"/api/v1/projects/{project_id}/experiments",
        {
            "dataset_id": dataset.pk,
            "name": "Tumours",
            "task": "classification",
            "target": "target",
        },
        "application/json",
    )
    assert created.status_code == 201, created.content
    experiment = events("experiment.created").get()
    assert (experiment.actor, experiment.target_id) == (alice, str(created.json()["id"]))
    assert experiment.metadata["task"] == "classification"


def test_project_deletion_is_audited(alice_client, alice):
    project = make_project(alice, name="Doomed")
    assert alice_client.delete(f"/api/v1/projects/{project.pk}").status_code == 204
    deleted = events("project.deleted").get()
    assert (deleted.actor, deleted.target_id) == (alice, str(project.pk))


def test_a_copilot_consultation_is_audited_without_its_advice(settings, alice):
    from copilots.services import consult
    from copilots.tests.factories import make_churn_experiment

    settings.COPILOT_MODEL = ""  # the offline copilot
    experiment = make_churn_experiment(alice)
    consultation = consult(type="dataset_analysis", obj=experiment.dataset, user=alice)
    event = events("copilot.consulted").get()
    assert (event.actor, event.workspace) == (alice, workspace_of(alice))
    assert (event.target_type, event.target_id) == ("consultation", str(consultation.pk))
    assert event.metadata["type"] == "dataset_analysis" and event.metadata["offline"] is True
    assert consultation.advice["reasoning_summary"] not in json.dumps(event.metadata)


# The workspace's audit log page.


def audit_url(workspace) -> str:
    return reverse("accounts:workspace_audit", args=[workspace.pk])


def test_the_workspace_page_links_admins_to_the_audit_log(alice_client, alice, bob):
    team = workspace_of(alice)
    add_member(team, bob, "member")
    assert (
        audit_url(team)
        in alice_client.get(reverse("accounts:workspace_detail", args=[team.pk])).content.decode()
    )
    html = (
        login_client(bob).get(reverse("accounts:workspace_detail", args=[team.pk])).content.decode()
    )
    assert audit_url(team) not in html


def test_an_admin_reads_the_log_as_a_page_and_as_a_fragment(alice_client, alice):
    make_project(alice, name="<script>alert(1)</script>")
    page = alice_client.get(audit_url(workspace_of(alice)))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Audit log</h1>" in html and "project.created" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    fragment = alice_client.get(audit_url(workspace_of(alice)), **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert body.lstrip().startswith('<section class="card" id="audit-results"')
    assert "<html" not in body and "project.created" in body


def test_the_log_filters_by_actor_action_and_dates(alice_client, alice, bob):
    team = workspace_of(alice)
    add_member(team, bob, "member")
    make_project(alice, name="By alice")
    from engine.services.projects import project_create

    project_create(workspace=team, name="By bob", user=bob)
    url = audit_url(team)
    by_bob = alice_client.get(url, {"actor": bob.pk, "action": "project.created"}).content.decode()
    assert "By bob" in by_bob and "By alice" not in by_bob
    by_action = alice_client.get(url, {"action": "invitation.created"}).content.decode()
    assert "invitation.created" in by_action and "By alice" not in by_action
    today = timezone.localdate()
    within = alice_client.get(url, {"since": today.isoformat(), "until": today.isoformat()})
    assert "By alice" in within.content.decode()
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = alice_client.get(url, {"since": tomorrow}, **HTMX)
    assert later.status_code == 200 and "No events match these filters" in later.content.decode()
    backwards = alice_client.get(url, {"since": tomorrow, "until": today.isoformat()})
    assert backwards.status_code == 422
    assert "The end date is before the start date." in backwards.content.decode()
    assert alice_client.get(url, {"actor": "nobody"}).status_code == 422


def test_the_log_is_paginated_newest_first(alice_client, alice):
    team = workspace_of(alice)
    for n in range(AUDIT_PAGE_SIZE + 5):
        AuditEvent.objects.create(action="test.event", workspace=team, metadata={"n": n})
    url = audit_url(team)
    first = alice_client.get(url, {"action": "test.event"}).content.decode()
    assert f"n: {AUDIT_PAGE_SIZE + 4}" in first and "n: 0<" not in first
    assert "Page 1 of 2" in first and "page=2" in first
    second = alice_client.get(url, {"action": "test.event", "page": 2}).content.decode()
    assert "n: 0<" in second and f"n: {AUDIT_PAGE_SIZE + 4}<" not in second
    assert "action=test.event" in second  # the filters stay on the page links
    assert alice_client.get(url, {"page": "999"}).status_code == 200
    fragment = alice_client.get(url, {"action": "test.event", "page": 2}, **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="audit-results"')
    assert "n: 0<" in fragment and 'hx-target="#audit-results"' in fragment


def test_members_get_403_and_strangers_404(alice, bob, charlie):
    team = workspace_of(alice)
    add_member(team, bob, "member")
    add_member(team, charlie, "admin")
    assert login_client(bob).get(audit_url(team)).status_code == 403
    assert login_client(bob).get(audit_url(team), **HTMX).status_code == 403
    assert login_client(charlie).get(audit_url(team)).status_code == 200
    stranger = User.objects.create_user("eve", password=PASSWORD)
    assert login_client(stranger).get(audit_url(team)).status_code == 404
    anonymous = login_client(alice)
    anonymous.logout()
    assert anonymous.get(audit_url(team)).status_code == 302


def test_the_run_and_deployment_lifecycle_shows_on_the_audit_page(alice_client, alice):
    from engine.services.pipelines import pipeline_promote
    from engine.tests.factories import make_succeeded_run

    run = make_succeeded_run(alice, name="lifecycle")
    submitted = alice_client.post(
        f"/api/v1/experiments/{run.experiment_id}/runs",
        {"plan": {"kind": "setup"}},
        "application/json",
    )
    assert submitted.status_code == 202
    cancel = alice_client.post(f"/api/v1/runs/{submitted.json()['id']}/cancel")
    assert cancel.status_code in (200, 202), cancel.content
    promoted = alice_client.post(
        f"/api/v1/runs/{run.pk}/promote", {"name": "life"}, "application/json"
    )
    assert promoted.status_code == 201
    deploy = {"slug": "life", "acknowledge_risks": True}
    first = alice_client.post(
        f"/api/v1/pipelines/{promoted.json()['id']}/deploy", deploy, "application/json"
    )
    assert first.status_code == 201, first.content
    second = pipeline_promote(run=run, user=alice, name="life")
    again = alice_client.post(f"/api/v1/pipelines/{second.pk}/deploy", deploy, "application/json")
    assert again.status_code in (200, 201), again.content
    assert alice_client.post("/api/v1/deployments/life/rollback").status_code == 200
    assert alice_client.post("/api/v1/deployments/life/deactivate").status_code == 200

    recorded = list(
        AuditEvent.objects.filter(workspace=workspace_of(alice)).values_list("action", flat=True)
    )
    for action in ("run.submitted", "run.cancelled", "pipeline.promoted", "deployment.created"):
        assert action in recorded, action
    changes = AuditEvent.objects.filter(action="deployment.changed").order_by("id")
    assert [e.metadata["action"] for e in changes] == ["deploy", "rollback", "deactivate"]
    assert {e.actor for e in changes} == {alice}

    html = alice_client.get(
        audit_url(workspace_of(alice)), {"action": "deployment.changed"}
    ).content.decode()
    assert "action: rollback" in html and "action: deactivate" in html
    assert "run.submitted" not in html.split('id="audit-results"')[1]
