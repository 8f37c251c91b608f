"""Who may obtain a token for Atrium's machine URL (the directory API): a region's own client,
by client credentials, with scope directory:read, and nothing more. The provisioner, customers'
clients and a person's login through the region's client never get that audience."""

import pytest
from django.conf import settings

from accounts.tests.oidc_helpers import (
    TOKEN_URL,
    authorize,
    basic_auth,
    code_flow_tokens,
    confidential_client,
    provisioner,
    query_of,
    region_with_login_client,
    unverified_claims,
)
from conftest import pkce_pair

pytestmark = pytest.mark.django_db

CUSTOMER_REDIRECT = "https://customer.test/callback"


@pytest.fixture
def eu(db, tmp_path):
    return region_with_login_client("eu", tmp_path, 8102, 9102)


def client_credentials(client, client_id, secret, **data):
    return client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", **data},
        HTTP_AUTHORIZATION=basic_auth(client_id, secret),
    )


def assert_no_token(response, *errors):
    assert 400 <= response.status_code < 500, response.content
    assert "access_token" not in response.json()
    assert response.json()["error"] in errors, response.json()


def test_a_region_client_gets_a_directory_token_for_atriums_machine_url(client, eu):
    response = client_credentials(
        client, eu.oidc_client_id, eu.secret, scope="directory:read", resource=settings.ATRIUM_MACHINE_URL
    )
    assert response.status_code == 200, response.content
    claims = unverified_claims(response.json()["access_token"])
    assert claims["aud"] in (settings.ATRIUM_MACHINE_URL, [settings.ATRIUM_MACHINE_URL])
    assert claims["client_id"] == "region-eu"
    assert claims["scope"] == "directory:read"


def test_a_region_client_gets_no_other_audience(client, eu, tmp_path):
    us = region_with_login_client("us", tmp_path, 8101, 9101)
    for resource in (eu.machine_url, us.machine_url, "https://elsewhere.test"):
        response = client_credentials(
            client, eu.oidc_client_id, eu.secret, scope="directory:read", resource=resource
        )
        assert_no_token(response, "invalid_target")


@pytest.mark.parametrize("scope", ["scim", "tenant", "atrium:api"])
def test_a_region_client_gets_no_machine_scope_of_the_provisioner(client, eu, scope):
    response = client_credentials(
        client, eu.oidc_client_id, eu.secret, scope=scope, resource=settings.ATRIUM_MACHINE_URL
    )
    assert_no_token(response, "invalid_scope")


def test_a_persons_login_through_the_region_client_cannot_ask_for_the_machine_url(client, alice, eu):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(
        client,
        eu.oidc_client_id,
        eu.oidc_redirect_uri,
        challenge=challenge,
        scope="openid directory:read",
        resource=settings.ATRIUM_MACHINE_URL,
    )
    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_target"
    assert "code" not in query_of(response)


def test_a_code_exchange_through_the_region_client_gets_no_machine_audience(client, alice, eu):
    response = code_flow_tokens(
        client,
        alice,
        eu.oidc_client_id,
        eu.secret,
        eu.oidc_redirect_uri,
        resource=settings.ATRIUM_MACHINE_URL,
    )
    assert_no_token(response, "invalid_target")


def test_the_provisioner_gets_neither_the_directory_scope_nor_atriums_machine_url(client, eu, tmp_path):
    prov, secret = provisioner("atrium-provisioner", tmp_path)
    assert "directory:read" not in prov.get_scopes()
    response = client_credentials(client, prov.id, secret, scope="scim", resource=settings.ATRIUM_MACHINE_URL)
    assert_no_token(response, "invalid_target")
    response = client_credentials(client, prov.id, secret, scope="directory:read", resource=eu.machine_url)
    assert_no_token(response, "invalid_scope")


def test_a_customer_client_gets_no_machine_audience(client, db):
    confidential_client(
        "customer-app", "customer-secret", grant_types=["client_credentials"], scopes=["directory:read"],
        redirect_uris=[CUSTOMER_REDIRECT],
    )  # fmt: skip
    response = client_credentials(
        client,
        "customer-app",
        "customer-secret",
        scope="directory:read",
        resource=settings.ATRIUM_MACHINE_URL,
    )
    assert_no_token(response, "invalid_target")
