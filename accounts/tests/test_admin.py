"""The admin as audit view: revoke keys, read the audit log, never see a hash or a key."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, User
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-admin-tests")
    client.force_login(admin)
    return client


def test_revoke_selected_keys_action(admin_client, alice):
    key, token = api_key_create(user=alice, name="leaked")
    response = admin_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked")
    assert event.actor.username == "root" and event.metadata["prefix"] == key.prefix


def test_key_admin_shows_neither_hash_nor_plaintext(admin_client, alice):
    key, token = api_key_create(user=alice, name="k")
    listing = admin_client.get(reverse("admin:accounts_apikey_changelist") + f"?q={key.prefix}")
    detail = admin_client.get(reverse("admin:accounts_apikey_change", args=[key.pk]))
    for page in (listing, detail):
        html = page.content.decode()
        assert page.status_code == 200
        assert key.prefix in html
        assert key.key_hash not in html and token not in html


def test_audit_log_is_read_only_with_filters(admin_client, alice):
    api_key_create(user=alice, name="k")
    listing = admin_client.get(
        reverse("admin:accounts_auditevent_changelist") + "?action=api_key.created"
    )
    assert listing.status_code == 200
    assert "api_key.created" in listing.content.decode()
    event = AuditEvent.objects.get(action="api_key.created")
    assert admin_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    with pytest.raises(ValueError):
        event.save()
