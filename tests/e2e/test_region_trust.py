"""A region trusts machine tokens only from the Atrium clients it is configured for
(REGION_TRUSTED_CLIENT_IDS; the provisioner by default). Real processes: the live portal's token
endpoint mints both tokens, EU's gunicorn machine port (mutual TLS) judges them."""

import httpx
import jwt
import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings

from regions import client as region_client
from tests.e2e.conftest import machine_http

pytestmark = pytest.mark.e2e

PARTNER_ID = "partner-sync"
PARTNER_SECRET = "partner-secret-0123456789abcdef"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def eu(regions, region_processes):
    return region_processes["eu"]


@pytest.fixture
def partner_client(eu):
    """A second confidential client-credentials client that Atrium allows EU's machine URL as an
    audience — exactly as it allows the provisioner (accounts.oidc.validate_resource_uris)."""
    client = Client(id=PARTNER_ID, name="Partner sync", type=Client.Type.CONFIDENTIAL)
    client.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    client.set_scopes(["scim"])
    client.set_secret(PARTNER_SECRET)  # stored however Atrium stores client secrets
    client.data = {"allowed_resources": [eu.machine_url.rstrip("/")]}
    client.save()
    return client


def partner_token(live_server, audience: str) -> str:
    response = httpx.post(
        f"{live_server.url}/identity/o/api/token",
        data={"grant_type": "client_credentials", "scope": "scim", "resource": audience},
        auth=(PARTNER_ID, PARTNER_SECRET),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_eu_refuses_a_well_formed_token_of_a_client_it_does_not_trust(live_server, eu, partner_client):
    # given Atrium issues the partner a genuine token for EU's machine URL with scope scim
    token = partner_token(live_server, eu.machine_url)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["client_id"] == PARTNER_ID
    assert eu.machine_url.rstrip("/") in (
        claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    )
    assert claims["scope"].split() == ["scim"]
    assert claims["iss"] == settings.ATRIUM_ISSUER
    # when the partner calls EU's SCIM endpoint with it
    with machine_http(eu, headers={"Authorization": f"Bearer {token}"}) as http:
        response = http.get("/scim/v2/acme/Users")
    # then EU refuses it: authenticated but not authorised (RFC 6750 §3.1), in SCIM's error format
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/scim+json")
    assert response.json()["schemas"] == [SCIM_ERROR]
    assert response.json()["status"] == "403"
    assert "not trusted" in response.json()["detail"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_eu_accepts_the_provisioners_token_for_the_same_request(eu, partner_client):
    token = region_client.m2m_token(audience=eu.machine_url, scope="scim", fresh=True)
    with machine_http(eu, headers={"Authorization": f"Bearer {token}"}) as http:
        response = http.get("/scim/v2/acme/Users")
    assert response.status_code == 200, response.text
    assert (
        jwt.decode(token, options={"verify_signature": False})["client_id"] == settings.ATRIUM_M2M_CLIENT_ID
    )
