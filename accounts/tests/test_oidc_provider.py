"""Atrium as the OpenID Connect provider (allauth.idp.oidc + AtriumOIDCAdapter), in process."""

import base64
import json
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from allauth.idp.oidc.models import Client, Token
from django.conf import settings

from conftest import pkce_pair
from regions.models import Region
from regions.services import region_oidc_client_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_us(db, tmp_path):
    region = Region.objects.create(
        code="us",
        name="United States",
        people_url="http://127.0.0.1:8101",
        machine_url="https://127.0.0.1:9101",
    )
    registered = region_oidc_client_register(region=region, secrets_dir=tmp_path)
    region.secret = json.loads(registered.secret_file.read_text())["client_secret"]
    return region


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def authorize(client, region, *, challenge, nonce="nonce-123", redirect_uri=None):
    return client.get(
        "/identity/o/authorize",
        {
            "response_type": "code",
            "client_id": region.oidc_client_id,
            "redirect_uri": redirect_uri or region.oidc_redirect_uri,
            "scope": "openid email profile",
            "state": "state-1",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


def code_from(response) -> str:
    assert response.status_code == 302, response.content[:500]
    return parse_qs(urlparse(response["Location"]).query)["code"][0]


def exchange(client, region, code, verifier):
    return client.post(
        "/identity/o/api/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": region.oidc_redirect_uri,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(region.oidc_client_id, region.secret),
    )


def jwks_key(client, token: str):
    jwks = client.get("/.well-known/jwks.json").json()
    return jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]].key


def test_discovery_names_the_configured_issuer_whatever_the_host(client):
    # when
    doc = client.get("/.well-known/openid-configuration", HTTP_HOST="localhost").json()
    # then
    issuer = settings.ATRIUM_ISSUER
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == f"{issuer}/identity/o/authorize"
    assert doc["token_endpoint"] == f"{issuer}/identity/o/api/token"
    assert doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert doc["userinfo_endpoint"] == f"{issuer}/identity/o/api/userinfo"
    assert "S256" in doc["code_challenge_methods_supported"]
    assert "RS256" in doc["id_token_signing_alg_values_supported"]


def test_jwks_publishes_the_public_rsa_key_only(client, oidc_signing_key):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert "d" not in keys[0] and "p" not in keys[0]


def test_id_token_carries_issuer_audience_public_uuid_and_nonce(client, alice, region_us):
    # given
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    # when
    code = code_from(authorize(client, region_us, challenge=challenge, nonce="n-42"))
    response = exchange(client, region_us, code, verifier)
    # then
    assert response.status_code == 200, response.content
    id_token = response.json()["id_token"]
    claims = jwt.decode(
        id_token,
        jwks_key(client, id_token),
        algorithms=["RS256"],
        audience=region_us.oidc_client_id,
        issuer=settings.ATRIUM_ISSUER,
    )
    assert claims["sub"] == str(alice.public_id)
    assert claims["nonce"] == "n-42"
    assert claims["email"] == "alice@acme.test"
    assert claims["name"] == "Alice Anders"


def test_access_token_is_a_jwt_accepted_by_userinfo(client, alice, region_us):
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    tokens = exchange(
        client, region_us, code_from(authorize(client, region_us, challenge=challenge)), verifier
    ).json()
    access = jwt.decode(
        tokens["access_token"], jwks_key(client, tokens["access_token"]), algorithms=["RS256"],
        options={"verify_aud": False},
    )  # fmt: skip
    assert access["sub"] == str(alice.public_id)
    assert access["iss"] == settings.ATRIUM_ISSUER
    client.logout()
    info = client.get("/identity/o/api/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert info.status_code == 200
    assert info.json()["sub"] == str(alice.public_id)
    assert info.json()["email"] == "alice@acme.test"


def test_a_region_login_client_gets_no_refresh_token(client, alice, region_us):
    # Regions keep their own session after login and never refresh (mozilla-django-oidc).
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    response = exchange(
        client, region_us, code_from(authorize(client, region_us, challenge=challenge)), verifier
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert not Token.objects.filter(
        client_id=region_us.oidc_client_id, type=Token.Type.REFRESH_TOKEN
    ).exists()


def test_a_reused_code_is_refused(client, alice, region_us):
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    code = code_from(authorize(client, region_us, challenge=challenge))
    assert exchange(client, region_us, code, verifier).status_code == 200
    # when
    second = exchange(client, region_us, code, verifier)
    # then
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(client, alice, region_us):
    client.force_login(alice)
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = code_from(authorize(client, region_us, challenge=challenge))
    response = exchange(client, region_us, code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_missing_pkce_verifier_is_refused(client, alice, region_us):
    client.force_login(alice)
    _, challenge = pkce_pair()
    code = code_from(authorize(client, region_us, challenge=challenge))
    response = client.post(
        "/identity/o/api/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": region_us.oidc_redirect_uri},
        HTTP_AUTHORIZATION=basic_auth(region_us.oidc_client_id, region_us.secret),
    )
    assert response.status_code == 400


def test_an_unregistered_redirect_uri_is_never_redirected_to(client, alice, region_us):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(client, region_us, challenge=challenge, redirect_uri="https://evil.test/callback")
    assert response.status_code == 400
    assert "evil.test" not in response.get("Location", "")


def test_a_wrong_client_secret_is_refused(client, alice, region_us):
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    code = code_from(authorize(client, region_us, challenge=challenge))
    region_us.secret = "not-the-secret"
    response = exchange(client, region_us, code, verifier)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_authorize_sends_an_anonymous_person_to_the_login_page(client, region_us):
    _, challenge = pkce_pair()
    response = authorize(client, region_us, challenge=challenge)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_client_credentials_gives_a_jwt_with_the_requested_resource_as_audience(client):
    # given a machine client (the worker's arrives with provisioning)
    machine = Client(id="machine-test", name="Machine", type=Client.Type.CONFIDENTIAL)
    machine.set_secret("s3cret")
    machine.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    machine.set_scopes(["scim"])
    machine.data = {"allowed_resources": ["https://127.0.0.1:9102"]}
    machine.save()
    # when
    response = client.post(
        "/identity/o/api/token",
        {"grant_type": "client_credentials", "scope": "scim", "resource": "https://127.0.0.1:9102"},
        HTTP_AUTHORIZATION=basic_auth("machine-test", "s3cret"),
    )
    # then
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    claims = jwt.decode(
        token, jwks_key(client, token), algorithms=["RS256"], audience="https://127.0.0.1:9102",
        issuer=settings.ATRIUM_ISSUER,
    )  # fmt: skip
    assert claims["scope"] == "scim"
    assert "sub" not in claims
    # and a resource it is not registered for is refused
    other = client.post(
        "/identity/o/api/token",
        {"grant_type": "client_credentials", "scope": "scim", "resource": "https://127.0.0.1:9101"},
        HTTP_AUTHORIZATION=basic_auth("machine-test", "s3cret"),
    )
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_target"


@pytest.mark.parametrize("resource", ["notaurl", "https://x.test/a/../b", "https://x.test/#frag"])
def test_a_malformed_resource_is_a_400_with_a_json_error(client, resource):
    response = client.post(
        "/identity/o/api/token", {"grant_type": "client_credentials", "resource": resource}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_a_malformed_resource_at_authorize_is_never_a_500(client, alice, region_us):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = client.get(
        "/identity/o/authorize",
        {"response_type": "code", "client_id": region_us.oidc_client_id, "redirect_uri": region_us.oidc_redirect_uri,
         "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256", "resource": "notaurl"},
    )  # fmt: skip
    assert 400 <= response.status_code < 500 or (
        response.status_code == 302 and "error=" in response["Location"]
    )
