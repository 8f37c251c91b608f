"""ID tokens carry how the person signed in: `amr`, `acr`, `sid` and `auth_time` (issue 11)."""

import time

import jwt
import pytest
from allauth.idp.oidc.models import Token
from django.core.cache import cache

from accounts.auth_context import LOA_1, LOA_2
from accounts.oidc_authorize import _CONTEXT_KEY, code_digest
from accounts.sessions import SID_KEY
from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, confidential_client, unverified_claims
from accounts.tests.oidc_spec_helpers import (
    code_flow,
    exchange,
    mark_session_verified,
    password_login,
    refresh,
    rp_client,
    set_session,
    tokens,
    totp_device,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(db):
    return rp_client()


def id_claims(body: dict) -> dict:
    return unverified_claims(body["id_token"])


def test_a_password_login_gives_pwd_loa1_the_session_sid_and_the_login_time(client, alice, rp):
    before = int(time.time())
    password_login(client, alice.email)
    after = int(time.time()) + 1
    # when
    claims = id_claims(tokens(client))
    # then
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == LOA_1
    assert claims["sid"] == client.session[SID_KEY]
    assert before <= claims["auth_time"] <= after


def test_a_session_that_passed_totp_gives_otp_mfa_and_loa2(client, alice, rp):
    password_login(client, alice.email)
    mark_session_verified(client, totp_device(alice))
    claims = id_claims(tokens(client))
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == LOA_2


def test_an_sso_login_whose_idp_mfa_is_trusted_gives_fed_and_mfa(client, alice, rp):
    client.force_login(alice)
    set_session(client, atrium_federated={"account": "acme", "mfa": True})
    claims = id_claims(tokens(client))
    assert claims["amr"] == ["fed", "mfa"]
    assert claims["acr"] == LOA_2


def test_an_sso_login_without_trusted_mfa_is_fed_at_loa1(client, alice, rp):
    client.force_login(alice)
    set_session(client, atrium_federated={"account": "acme", "mfa": False})
    claims = id_claims(tokens(client))
    assert claims["amr"] == ["fed"]
    assert claims["acr"] == LOA_1


def test_the_sid_is_the_same_for_every_code_of_one_session_and_new_after_a_new_login(client, alice, bob, rp):
    password_login(client, alice.email)
    first, second = id_claims(tokens(client))["sid"], id_claims(tokens(client))["sid"]
    client.post("/accounts/logout/")
    password_login(client, alice.email)
    third = id_claims(tokens(client))["sid"]
    assert first == second
    assert third != first


def test_a_refreshed_id_token_keeps_the_claims_of_the_login(client, alice, rp):
    password_login(client, alice.email)
    mark_session_verified(client, totp_device(alice))
    first = tokens(client)
    # when the client refreshes (twice: the rotated refresh token carries them on)
    once = refresh(client, first["refresh_token"]).json()
    twice = refresh(client, once["refresh_token"]).json()
    # then
    keep = ("amr", "acr", "sid", "auth_time")
    expected = {k: id_claims(first)[k] for k in keep}
    assert {k: id_claims(twice)[k] for k in keep} == expected
    assert expected["acr"] == LOA_2


def test_client_credentials_tokens_are_unchanged_and_carry_no_login_context(client):
    confidential_client(
        "m2m-spec", "m2m-secret", grant_types=["client_credentials"], scopes=["directory:read"]
    )
    response = client.post(
        TOKEN_URL, {"grant_type": "client_credentials", "scope": "directory:read"},
        HTTP_AUTHORIZATION=basic_auth("m2m-spec", "m2m-secret"),
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert "id_token" not in body
    assert set(unverified_claims(body["access_token"])) == {
        "client_id",
        "iss",
        "iat",
        "exp",
        "jti",
        "token_use",
        "scope",
    }
    row = Token.objects.get(client_id="m2m-spec")
    assert not any(key.startswith("atrium_") for key in (row.data or {}))


def test_a_code_whose_context_is_gone_still_gets_tokens_without_the_claims(client, alice, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    cache.delete(_CONTEXT_KEY.format(code_digest(code)))
    response = exchange(client, code, verifier)
    assert response.status_code == 200, response.content
    claims = id_claims(response.json())
    assert claims["sub"] == str(alice.public_id)
    assert not {"amr", "acr", "sid", "auth_time"} & set(claims)


@pytest.mark.parametrize(
    "stored",
    [
        "not a dict",
        ["pwd"],
        {"amr": "pwd", "auth_time": "yesterday", "sid": 42},
        {"amr": ["pwd", {"x": 1}], "auth_time": True, "sid": "x" * 500},
        {"amr": ["root"], "acr": LOA_2, "auth_time": -5},
    ],
)
def test_a_forged_context_never_breaks_the_token_endpoint_nor_reaches_the_id_token(client, alice, rp, stored):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    cache.set(_CONTEXT_KEY.format(code_digest(code)), stored, 60)
    response = exchange(client, code, verifier)
    assert response.status_code == 200, response.content
    claims = id_claims(response.json())
    assert "amr" not in claims and "acr" not in claims
    assert "sid" not in claims and "auth_time" not in claims


def test_an_acr_claim_is_always_derived_from_amr_never_taken_as_stored(client, alice, rp):
    password_login(client, alice.email)
    code, verifier = code_flow(client)
    cache.set(_CONTEXT_KEY.format(code_digest(code)), {"amr": ["pwd"], "acr": LOA_2, "auth_time": 1}, 60)
    claims = id_claims(exchange(client, code, verifier).json())
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == LOA_1


def test_a_refresh_token_with_a_broken_context_is_still_refreshed(client, alice, rp):
    password_login(client, alice.email)
    first = tokens(client)
    Token.objects.filter(type=Token.Type.REFRESH_TOKEN).update(data={"atrium_auth": "junk", "atrium_code": 7})
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.content
    assert "amr" not in id_claims(response.json())


def test_the_id_token_is_signed_with_the_claims_in_it(client, alice, rp):
    password_login(client, alice.email)
    body = tokens(client)
    jwks = client.get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(body["id_token"])["kid"]].key
    verified = jwt.decode(body["id_token"], key, algorithms=["RS256"], audience=rp.id)
    assert verified["amr"] == ["pwd"] and "auth_time" in verified


def test_discovery_lists_the_claims_and_the_assurance_levels(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert {"amr", "acr", "sid", "auth_time", "sub", "email"} <= set(doc["claims_supported"])
    assert doc["acr_values_supported"] == [LOA_1, LOA_2]
