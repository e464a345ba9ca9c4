"""Personal API keys: shown once, hashed, scoped, expiring, revocable, audited, throttled."""

import logging
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ApiKey, AuditEvent
from accounts.services import api_key_create, api_key_revoke, workspace_create
from accounts.tests.factories import login_client, workspace_of

pytestmark = pytest.mark.django_db
FULL_KEY = re.compile(r"pck_[A-Za-z0-9_\-]{40,}")


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()
    yield
    cache.clear()


def create_key(client, **body):
    return client.post(
        "/api/v1/auth/api-keys", {"name": "ci", **body}, content_type="application/json"
    )


def key_client(client, token):
    return lambda method, url, **kw: getattr(client, method)(url, HTTP_X_PYCARET_KEY=token, **kw)


# The seed's set.


def test_create_returns_the_plaintext_once_and_list_never_shows_it(alice_client):
    response = create_key(alice_client, scopes=["read", "train"])
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert token.startswith("pck_") and len(token) == 4 + 43
    assert body["prefix"] == token[:12]
    assert body["scopes"] == ["read", "train"]
    listing = alice_client.get("/api/v1/auth/api-keys")
    assert token not in listing.content.decode()
    assert listing.json()["items"][0]["prefix"] == token[:12]
    assert listing.json()["items"][0]["status"] == "active"
    stored = ApiKey.objects.get(pk=body["id"])
    assert token not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64


def test_list_is_scoped_to_its_user(alice_client, bob_client):
    create_key(alice_client, name="alice-key")
    create_key(bob_client, name="bob-key")
    assert [k["name"] for k in alice_client.get("/api/v1/auth/api-keys").json()["items"]] == [
        "alice-key"
    ]


def test_revoke_is_soft(alice_client):
    key_id = create_key(alice_client).json()["id"]
    assert alice_client.delete(f"/api/v1/auth/api-keys/{key_id}").status_code == 204
    key = ApiKey.objects.get(pk=key_id)
    assert key.revoked_at is not None
    assert alice_client.get("/api/v1/auth/api-keys").json()["items"][0]["status"] == "revoked"


def test_bob_cannot_revoke_alices_key(alice_client, bob_client):
    key_id = create_key(alice_client).json()["id"]
    assert bob_client.delete(f"/api/v1/auth/api-keys/{key_id}").status_code == 404
    assert ApiKey.objects.get(pk=key_id).revoked_at is None


def test_expiry_round_trips(alice_client):
    body = create_key(alice_client, expires_in_days=7).json()
    expires = ApiKey.objects.get(pk=body["id"]).expires_at
    assert abs((expires - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    listed = alice_client.get("/api/v1/auth/api-keys").json()["items"][0]
    assert listed["expires_at"].startswith(expires.strftime("%Y-%m-%d"))


def test_create_requires_a_name(alice_client):
    response = alice_client.post("/api/v1/auth/api-keys", {}, content_type="application/json")
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


# Key auth on real routes.


def test_a_key_authenticates_and_revocation_takes_effect_on_the_next_request(
    client, alice, alice_client
):
    token = create_key(alice_client).json()["token"]
    call = key_client(client, token)
    assert call("get", "/api/v1/workspaces").status_code == 200
    # Revoked in this process (the key is in its serving cache by now): refused at once.
    api_key_revoke(key=ApiKey.objects.get(prefix=token[:12]), by=alice)
    response = call("get", "/api/v1/workspaces")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key.", "code": "unauthorized"}


def test_a_key_revoked_by_another_process_is_refused_once_the_cache_ttl_has_passed(
    client, alice, settings
):
    settings.STUDIO_SERVING_CACHE_S = 0.3
    _, token = api_key_create(user=alice, name="elsewhere")
    assert key_client(client, token)("get", "/api/v1/workspaces").status_code == 200
    # Another process's revoke: the row changes, this process's cache is not told.
    ApiKey.objects.filter(prefix=token[:12]).update(revoked_at=timezone.now())
    time.sleep(0.4)
    assert key_client(client, token)("get", "/api/v1/workspaces").status_code == 401


def test_an_expired_key_gets_the_same_401(client, alice):
    key, token = api_key_create(user=alice, name="old", expires_in_days=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    unknown = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY="pck_" + "x" * 43)
    expired = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token)
    malformed = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY="hello")
    assert expired.status_code == unknown.status_code == malformed.status_code == 401
    assert expired.content == unknown.content == malformed.content


def test_last_used_is_recorded(client, alice):
    key, token = api_key_create(user=alice, name="k")
    client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_a_key_in_the_query_string_is_refused(client, alice):
    _, token = api_key_create(user=alice, name="k")
    response = client.get(f"/api/v1/workspaces?api_key={token}")
    assert response.status_code == 401
    assert "header" in response.json()["detail"]
    assert client.get(f"/api/v1/workspaces?x={token}", HTTP_X_PYCARET_KEY=token).status_code == 401


def test_a_missing_scope_gets_403(client, alice):
    _, token = api_key_create(user=alice, name="predict-only", scopes=["predict"])
    response = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 403
    assert "read" in response.json()["detail"]


def test_a_workspace_bound_key_sees_only_that_workspace(client, alice):
    personal = workspace_of(alice)
    team = workspace_create(name="Team", owner=alice)
    _, token = api_key_create(user=alice, name="team", workspace=team)
    listed = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token).json()["items"]
    assert [w["id"] for w in listed] == [team.pk]
    response = client.get(f"/api/v1/workspaces/{personal.pk}", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 404


def test_a_key_cannot_mint_keys(client, alice):
    _, token = api_key_create(user=alice, name="k", scopes=["read", "write"])
    response = client.post(
        "/api/v1/auth/api-keys",
        {"name": "child"},
        content_type="application/json",
        HTTP_X_PYCARET_KEY=token,
    )
    # The route takes a session only: a key is no credential there, so this is a request
    # without credentials, and that is 401 (DESIGN.md §5).
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert ApiKey.objects.count() == 1


def test_a_key_cannot_mint_keys_even_with_a_session(alice):
    _, token = api_key_create(user=alice, name="k", scopes=["read", "write"])
    client = login_client(alice)
    response = client.post(
        "/api/v1/auth/api-keys",
        {"name": "child"},
        content_type="application/json",
        HTTP_X_PYCARET_KEY=token,
    )
    assert response.status_code == 403
    assert ApiKey.objects.count() == 1


def test_failed_auth_is_audited_by_prefix_only(client, alice):
    _, token = api_key_create(user=alice, name="k")
    wrong = token[:12] + "A" * 43
    client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=wrong)
    event = AuditEvent.objects.get(action="auth.failed")
    assert event.metadata["prefix"] == token[:12]
    assert wrong not in str(event.metadata)


def test_failures_are_throttled_per_ip(client):
    statuses = [
        client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY="pck_nope").status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    other_ip = client.get(
        "/api/v1/workspaces", HTTP_X_PYCARET_KEY="pck_nope", REMOTE_ADDR="10.9.9.9"
    )
    assert other_ip.status_code == 401


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.one_of(
        st.just(""),
        st.text(max_size=300),
        st.text(alphabet=st.characters(codec="latin-1"), min_size=1, max_size=5000),
        st.builds(lambda s: "pck_" + s, st.text(max_size=60)),
        st.builds(
            lambda s: "pck_abcd1234" + s, st.text(alphabet="ABCDEFGHIJ_-xyz0123", max_size=60)
        ),
    )
)
def test_fuzzed_key_headers_always_get_401(client, alice, header):
    cache.clear()
    response = client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=header)
    # An empty header is no key at all: then the request is simply anonymous.
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_valid_prefix_with_a_wrong_secret_is_401(client, alice):
    _, token = api_key_create(user=alice, name="k")
    response = client.get(
        "/api/v1/workspaces", HTTP_X_PYCARET_KEY=token[:-1] + ("A" if token[-1] != "A" else "B")
    )
    assert response.status_code == 401


def test_no_full_key_reaches_the_logs(client, alice, alice_client, caplog):
    caplog.set_level(logging.DEBUG)
    token = create_key(alice_client).json()["token"]
    client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token)
    client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token[:12] + "Z" * 43)
    client.get(f"/api/v1/workspaces?key={token}")
    alice_client.delete(f"/api/v1/auth/api-keys/{ApiKey.objects.get().pk}")
    client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token)
    assert caplog.records, "the flow should have logged something"
    assert not FULL_KEY.search(caplog.text)


# Pages.


def test_api_keys_page_shows_the_key_once(alice_client):
    response = alice_client.post(
        reverse("accounts:api_keys"), {"name": "laptop", "scopes": ["read"]}
    )
    html = response.content.decode()
    token = FULL_KEY.search(html).group(0)
    assert "will not be shown again" in html
    assert f'<pre id="new-key-plaintext">{token}</pre>' in html
    assert "I&#x27;ve saved it" in html or "I've saved it" in html
    again = alice_client.get(reverse("accounts:api_keys")).content.decode()
    assert token not in again
    assert token[:12] in again
    assert "badge-active" in again


def test_api_keys_page_htmx_fragment_and_errors(alice_client):
    fragment = alice_client.post(
        reverse("accounts:api_keys"), {"name": "", "scopes": ["read"]}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 422
    html = fragment.content.decode()
    assert 'id="keys-panel"' in html and "<html" not in html
    assert "This field is required" in html


def test_revoke_from_the_page(alice_client, alice):
    key, _ = api_key_create(user=alice, name="k")
    response = alice_client.post(
        reverse("accounts:api_key_revoke", args=[key.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="key-table"' in response.content.decode()
    assert "badge-revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_bob_cannot_revoke_alices_key_from_the_page(bob_client, alice):
    key, _ = api_key_create(user=alice, name="k")
    assert bob_client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_create_api_key_command_prints_the_plaintext_once(alice, capsys):
    from django.core.management import call_command

    call_command(
        "create_api_key", "--username", "alice", "--name", "script", "--scopes", "read", "predict"
    )
    out = capsys.readouterr().out.strip()
    assert FULL_KEY.fullmatch(out)
    key = ApiKey.objects.get(name="script")
    assert key.prefix == out[:12] and key.scopes == ["predict", "read"]


# Plaintext responses are never cached.


def test_the_api_answer_with_a_plaintext_key_is_not_cached(alice_client):
    response = create_key(alice_client)
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]


def test_the_page_answer_with_a_plaintext_key_is_not_cached(alice_client):
    url = reverse("accounts:api_keys")
    full = alice_client.post(url, {"name": "laptop", "scopes": ["read"]})
    fragment = alice_client.post(url, {"name": "ci", "scopes": ["read"]}, HTTP_HX_REQUEST="true")
    for response in (full, fragment):
        assert FULL_KEY.search(response.content.decode())
        assert "no-store" in response["Cache-Control"]


# Key management takes a signed-in session; a key never manages keys.


def test_a_key_cannot_list_keys(client, alice):
    _, token = api_key_create(user=alice, name="k", scopes=["read", "write"])
    response = client.get("/api/v1/auth/api-keys", HTTP_X_PYCARET_KEY=token)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_key_cannot_revoke_keys_not_even_a_superusers(client, alice, bob):
    bob.is_superuser = True
    bob.save()
    _, root_token = api_key_create(user=bob, name="root", scopes=["read", "write", "deploy"])
    victim, _ = api_key_create(user=alice, name="alice's")
    own, _ = api_key_create(user=bob, name="bob's other")
    for key in (victim, own):
        response = client.delete(f"/api/v1/auth/api-keys/{key.pk}", HTTP_X_PYCARET_KEY=root_token)
        assert response.status_code == 401
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()


def test_a_workspace_bound_key_cannot_touch_its_users_other_keys(client, alice):
    team = workspace_create(name="Team", owner=alice)
    _, bound = api_key_create(user=alice, name="team", workspace=team, scopes=["read", "write"])
    other, _ = api_key_create(user=alice, name="personal", workspace=workspace_of(alice))
    listed = client.get("/api/v1/auth/api-keys", HTTP_X_PYCARET_KEY=bound)
    revoked = client.delete(f"/api/v1/auth/api-keys/{other.pk}", HTTP_X_PYCARET_KEY=bound)
    assert (listed.status_code, revoked.status_code) == (401, 401)
    assert ApiKey.objects.get(pk=other.pk).revoked_at is None


def test_a_session_sending_a_key_too_is_refused(alice, alice_client):
    victim, token = api_key_create(user=alice, name="k", scopes=["read", "write"])
    listed = alice_client.get("/api/v1/auth/api-keys", HTTP_X_PYCARET_KEY=token)
    revoked = alice_client.delete(f"/api/v1/auth/api-keys/{victim.pk}", HTTP_X_PYCARET_KEY=token)
    assert (listed.status_code, revoked.status_code) == (403, 403)
    assert ApiKey.objects.get(pk=victim.pk).revoked_at is None


def test_a_superusers_session_still_revokes_any_key(client, alice, bob):
    bob.is_superuser = True
    bob.save()
    key, _ = api_key_create(user=alice, name="k")
    assert login_client(bob).delete(f"/api/v1/auth/api-keys/{key.pk}").status_code == 204
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


# The failure throttle counts failed keys only, per client IP.


def test_the_failure_throttle_never_refuses_a_good_key(client, alice):
    _, token = api_key_create(user=alice, name="good")
    bad = [client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY="pck_nope") for _ in range(21)]
    assert bad[-1].status_code == 429
    # The same address, a good key: served.
    assert client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token).status_code == 200
    # And good keys are not counted: many of them never lead to a 429.
    cache.clear()
    for _ in range(25):
        assert client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY=token).status_code == 200
    assert client.get("/api/v1/workspaces", HTTP_X_PYCARET_KEY="pck_nope").status_code == 401


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(
    client, alice, settings
):
    settings.STUDIO_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(20):
        # A client cannot dodge the count by writing its own X-Forwarded-For entries.
        client.get(
            "/api/v1/workspaces",
            HTTP_X_PYCARET_KEY="pck_nope",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.5",
            **proxy,
        )
    attacker = client.get(
        "/api/v1/workspaces",
        HTTP_X_PYCARET_KEY="pck_nope",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        **proxy,
    )
    assert attacker.status_code == 429
    neighbour = client.get(
        "/api/v1/workspaces",
        HTTP_X_PYCARET_KEY="pck_nope",
        HTTP_X_FORWARDED_FOR="203.0.113.6",
        **proxy,
    )
    assert neighbour.status_code == 401
    assert AuditEvent.objects.filter(action="auth.failed").latest("id").ip == "203.0.113.6"


def test_without_trusted_proxies_x_forwarded_for_changes_nothing(client, alice, settings):
    settings.STUDIO_TRUSTED_PROXIES = 0
    statuses = [
        client.get(
            "/api/v1/workspaces",
            HTTP_X_PYCARET_KEY="pck_nope",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        ).status_code
        for n in range(21)
    ]
    assert statuses[-1] == 429
    assert AuditEvent.objects.filter(action="auth.failed").latest("id").ip == "127.0.0.1"


def test_a_key_only_script_gets_401_not_a_csrf_error(alice):
    from django.test import Client

    key, token = api_key_create(user=alice, name="k", scopes=["read", "write"])
    client = Client(enforce_csrf_checks=True)
    for method, url in (
        ("post", "/api/v1/auth/api-keys"),
        ("delete", f"/api/v1/auth/api-keys/{key.pk}"),
        ("post", f"/api/v1/workspaces/{workspace_of(alice).pk}/leave"),
    ):
        response = getattr(client, method)(url, HTTP_X_PYCARET_KEY=token)
        assert response.status_code == 401, (url, response.content)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
