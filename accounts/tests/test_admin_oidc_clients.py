"""allauth's OIDC client admin: the clients Atrium registers itself (regions, the provisioner,
connected apps) are read-only there — they change only through their services — while a client
staff add by hand stays editable."""

import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings

from accounts.connected_apps import connected_app_register
from conftest import make_user


@pytest.fixture
def staff(client):
    user = make_user("ops@atrium.test")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    return user


def _client(client_id: str) -> Client:
    return Client.objects.create(
        id=client_id,
        name=client_id,
        type=Client.Type.CONFIDENTIAL,
        scopes="openid",
        grant_types="authorization_code",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("client_id", ["region-eu", "atrium-provisioner", "app"])
def test_a_client_atrium_manages_cannot_be_edited_or_deleted_in_the_admin(client, staff, client_id):
    if client_id == "app":
        managed = connected_app_register(
            name="Wiki", launch_url="https://wiki.example/", redirect_uris=["https://wiki.example/cb"]
        ).app.client
    else:
        managed = _client(settings.ATRIUM_M2M_CLIENT_ID if client_id == "atrium-provisioner" else client_id)
    grants = managed.grant_types
    url = f"/admin/allauth_idp_oidc/client/{managed.pk}/change/"

    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # shown read-only
    posted = client.post(
        url, {"name": "renamed", "grant_types": "urn:ietf:params:oauth:grant-type:device_code"}
    )
    assert posted.status_code == 403
    assert (
        client.post(f"/admin/allauth_idp_oidc/client/{managed.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )

    managed.refresh_from_db()
    assert managed.grant_types == grants and managed.name != "renamed"


@pytest.mark.django_db
def test_a_client_staff_added_by_hand_stays_editable(client, staff):
    own = _client("partner-portal")
    page = client.get(f"/admin/allauth_idp_oidc/client/{own.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' in page.content.decode()
