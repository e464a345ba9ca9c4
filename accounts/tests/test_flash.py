"""Flash messages appear in the response of the action that made them: an HTMX answer carries
them in an out-of-band swap of the page's messages container, and they are not shown again on
the next page."""

import pytest
from django.urls import reverse

from accounts.models import ApiKey
from accounts.services import api_key_create
from accounts.tests.factories import make_persona, workspace_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
OOB = '<div id="messages" class="messages" role="status" aria-live="polite" hx-swap-oob="true">'


def test_every_page_has_an_empty_messages_container(alice_client):
    page = alice_client.get(reverse("accounts:api_keys")).content.decode()
    assert 'id="messages"' in page and "hx-swap-oob" not in page


def test_revoking_a_key_says_so_in_the_same_htmx_response(alice_client, alice):
    key, _ = api_key_create(user=alice, name="laptop <script>")
    response = alice_client.post(reverse("accounts:api_key_revoke", args=[key.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="key-table"' in html and "<html" not in html
    assert OOB in html
    assert f"Revoked laptop &lt;script&gt; ({key.prefix}…)." in html and "<script>" not in html
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    # shown once: the next page does not repeat it
    assert "Revoked" not in alice_client.get(reverse("accounts:api_keys")).content.decode()


def test_without_htmx_the_message_waits_for_the_page_after_the_redirect(alice_client, alice):
    key, _ = api_key_create(user=alice, name="laptop")
    response = alice_client.post(reverse("accounts:api_key_revoke", args=[key.pk]), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Revoked laptop" in html and "hx-swap-oob" not in html


def test_an_htmx_answer_without_messages_has_no_oob_swap(alice_client, alice):
    response = alice_client.get(reverse("accounts:api_keys"), **HTMX)
    assert response.status_code == 200 and "hx-swap-oob" not in response.content.decode()


def test_inviting_a_member_says_so_in_the_same_response(alice_client, alice):
    make_persona("sam")
    workspace = workspace_of(alice)
    url = reverse("accounts:member_add", args=[workspace.pk])
    response = alice_client.post(url, {"identifier": "sam", "role": "member"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Invitation to “sam” saved as member" in html
    page = alice_client.get(reverse("accounts:workspace_detail", args=[workspace.pk]))
    assert "Invitation to “sam” saved" not in page.content.decode()


def test_bob_cannot_revoke_alices_key_and_gets_no_message(bob_client, alice):
    key, _ = api_key_create(user=alice, name="k")
    response = bob_client.post(reverse("accounts:api_key_revoke", args=[key.pk]), **HTMX)
    assert response.status_code == 404 and b"Revoked" not in response.content
