"""A code presented twice is refused and every token issued from it is revoked (RFC 6749 §4.1.2)."""

import pytest
from allauth.idp.oidc.internal.oauthlib import authorization_codes
from allauth.idp.oidc.models import Token
from django.core.cache import cache

from accounts.oidc_authorize import code_digest
from accounts.refresh_tokens import _USED_KEY
from accounts.tests.oidc_spec_helpers import (
    RP_ID,
    code_flow,
    exchange,
    password_login,
    refresh,
    rp_client,
    tokens,
    userinfo,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(db):
    return rp_client()


def test_a_replayed_code_is_refused_and_the_first_access_token_stops_working(client, alice, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    first = exchange(client, code, verifier).json()
    assert userinfo(client, first["access_token"]).status_code == 200
    # when the code is presented again
    replay = exchange(client, code, verifier)
    # then
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert userinfo(client, first["access_token"]).status_code == 401
    assert refresh(client, first["refresh_token"]).json()["error"] == "invalid_grant"
    assert not Token.objects.filter(client_id=RP_ID).exists()


def test_tokens_refreshed_from_the_code_are_revoked_too(client, alice, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    first = exchange(client, code, verifier).json()
    refreshed = refresh(client, first["refresh_token"]).json()
    exchange(client, code, verifier)
    assert userinfo(client, refreshed["access_token"]).status_code == 401
    assert refresh(client, refreshed["refresh_token"]).status_code == 400


def test_our_api_refuses_a_revoked_access_token(client, alice, acme, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client, scope="openid atrium:api")
    first = exchange(client, code, verifier).json()
    client.post("/accounts/logout/")  # the API is called with the token alone
    assert (
        client.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code
        == 200
    )
    exchange(client, code, verifier)
    refused = client.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert refused.status_code in (401, 403)
    assert "acme" not in refused.content.decode()


def test_tokens_of_other_codes_keep_working(client, alice, rp):
    password_login(client, alice.email)
    other = tokens(client)
    code, verifier = code_flow(client)
    exchange(client, code, verifier)
    exchange(client, code, verifier)
    assert userinfo(client, other["access_token"]).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_two_exchanges_racing_on_one_code_leave_no_token_standing(client, alice, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    stored = authorization_codes.lookup(RP_ID, code)
    first = exchange(client, code, verifier).json()
    # the second exchange validated the code before the first one deleted it (another process)
    cache.set(authorization_codes.cache_key(RP_ID, code), stored, 60)
    second = exchange(client, code, verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert userinfo(client, first["access_token"]).status_code == 401


def test_an_unknown_code_is_refused_and_revokes_nothing(client, alice, rp):
    password_login(client, alice.email)
    first = tokens(client)
    _, verifier = code_flow(client)
    response = exchange(client, "made-up-code", verifier)
    assert response.json()["error"] == "invalid_grant"
    assert userinfo(client, first["access_token"]).status_code == 200


def test_a_first_exchange_with_a_wrong_verifier_does_not_use_up_the_code(client, alice, rp):
    # a failed exchange (PKCE) issued nothing: the client with the right verifier still succeeds
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    assert exchange(client, code, "wrong-verifier-" + "x" * 40).status_code == 400
    assert not cache.get(_USED_KEY.format(code_digest(code)))
    assert exchange(client, code, verifier).status_code == 200
