"""Refresh tokens: issued only to clients whose grant types include refresh_token, rotated on use,
and expiring after IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN (env ATRIUM_REFRESH_TOKEN_EXPIRES_IN)."""

import os
from datetime import timedelta

import pytest
from allauth.idp.oidc.internal.oauthlib.request_validator import OAuthLibRequestValidator
from allauth.idp.oidc.models import Client, Token
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, code_flow_tokens, confidential_client

pytestmark = pytest.mark.django_db

REDIRECT = "https://app.test/callback"


@pytest.fixture
def app_with_refresh(db):
    return confidential_client(
        "app-refresh", "app-secret", grant_types=[Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN],
        scopes=["openid", "email"], redirect_uris=[REDIRECT],
    )  # fmt: skip


@pytest.fixture
def app_without_refresh(db):
    return confidential_client(
        "app-plain", "app-secret", grant_types=[Client.GrantType.AUTHORIZATION_CODE],
        scopes=["openid", "email"], redirect_uris=[REDIRECT],
    )  # fmt: skip


def refresh(client, client_id: str, refresh_token: str):
    return client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic_auth(client_id, "app-secret"),
    )


def test_a_client_without_the_refresh_grant_gets_no_refresh_token_and_none_is_stored(
    client, alice, app_without_refresh
):
    response = code_flow_tokens(client, alice, "app-plain", "app-secret", REDIRECT)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "refresh_token" not in body and "refresh_expires_in" not in body
    assert body["access_token"] and body["id_token"]
    assert not Token.objects.filter(client=app_without_refresh, type=Token.Type.REFRESH_TOKEN).exists()


def test_a_client_with_the_refresh_grant_gets_one_that_expires(client, alice, app_with_refresh, settings):
    settings.IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = 7200
    before = timezone.now()
    response = code_flow_tokens(client, alice, "app-refresh", "app-secret", REDIRECT)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refresh_token"]
    assert 7100 <= body["refresh_expires_in"] <= 7200
    stored = Token.objects.get(client=app_with_refresh, type=Token.Type.REFRESH_TOKEN)
    assert before + timedelta(seconds=7200) <= stored.expires_at <= timezone.now() + timedelta(seconds=7200)


def test_refresh_gives_new_tokens_and_rotates_the_refresh_token(client, alice, app_with_refresh):
    first = code_flow_tokens(client, alice, "app-refresh", "app-secret", REDIRECT).json()
    # when
    refreshed = refresh(client, "app-refresh", first["refresh_token"])
    replayed = refresh(client, "app-refresh", first["refresh_token"])
    # then
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["refresh_token"] != first["refresh_token"]
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


def test_an_expired_refresh_token_is_refused(client, alice, app_with_refresh):
    first = code_flow_tokens(client, alice, "app-refresh", "app-secret", REDIRECT).json()
    Token.objects.filter(client=app_with_refresh, type=Token.Type.REFRESH_TOKEN).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = refresh(client, "app-refresh", first["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_client_that_lost_the_refresh_grant_cannot_use_an_old_refresh_token(
    client, alice, app_with_refresh
):
    first = code_flow_tokens(client, alice, "app-refresh", "app-secret", REDIRECT).json()
    app_with_refresh.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
    app_with_refresh.save()
    response = refresh(client, "app-refresh", first["refresh_token"])
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


def test_refresh_tokens_default_to_thirty_days_unless_configured():
    expected = int(os.environ.get("ATRIUM_REFRESH_TOKEN_EXPIRES_IN", 30 * 24 * 3600))
    assert expected == django_settings.IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN
    assert django_settings.IDP_OIDC_ROTATE_REFRESH_TOKEN is True


def test_the_refresh_token_filter_is_installed_once():
    assert OAuthLibRequestValidator.save_bearer_token._atrium_wrapped is True
