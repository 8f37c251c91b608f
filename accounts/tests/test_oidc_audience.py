"""Machine audiences (RFC 8707 `resource`) are bound to the client allauth authenticated, for every
grant; one client authentication method per request (RFC 6749 section 2.3); a refused `resource`
at the authorization endpoint is a clear 4xx (RFC 8707 section 2: invalid_target)."""

import pytest
from allauth.idp.oidc.models import Client
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
def region_us(db, tmp_path):
    return region_with_login_client("us", tmp_path, 8101, 9101)


@pytest.fixture
def machine_url(region_us):
    return region_us.machine_url


@pytest.fixture
def provisioner_client(region_us, tmp_path):
    # Registered after the region: its allowed audiences are the regions' machine URLs.
    return provisioner("atrium-provisioner", tmp_path)


@pytest.fixture
def customer_app(db):
    return confidential_client(
        "customer-app",
        "customer-secret",
        grant_types=[Client.GrantType.CLIENT_CREDENTIALS, Client.GrantType.AUTHORIZATION_CODE,
                     Client.GrantType.REFRESH_TOKEN],
        scopes=["openid", "email", "scim"],
        redirect_uris=[CUSTOMER_REDIRECT],
    )  # fmt: skip


def assert_refused_without_token(response, *errors):
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert "access_token" not in body
    assert body["error"] in errors, body


# --- the provisioner, for contrast ------------------------------------------------------------
@pytest.mark.parametrize("method", ["basic", "post"])
def test_the_provisioner_gets_a_region_audience_with_its_own_credentials(
    client, provisioner_client, machine_url, method
):
    prov, secret = provisioner_client
    data = {"grant_type": "client_credentials", "scope": "scim", "resource": machine_url}
    if method == "basic":
        response = client.post(TOKEN_URL, data, HTTP_AUTHORIZATION=basic_auth(prov.id, secret))
    else:
        response = client.post(TOKEN_URL, {**data, "client_id": prov.id, "client_secret": secret})
    assert response.status_code == 200, response.content
    claims = unverified_claims(response.json()["access_token"])
    assert claims["aud"] in (machine_url, [machine_url])
    assert claims["client_id"] == prov.id


# --- the Basic-header trick -------------------------------------------------------------------
def test_the_basic_header_trick_gets_invalid_client_and_no_token(
    client, provisioner_client, customer_app, machine_url
):
    # given another client's id in a Basic header with an empty secret, own credentials in the body
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "resource": machine_url,
         "client_id": "customer-app", "client_secret": "customer-secret"},
        HTTP_AUTHORIZATION=basic_auth("atrium-provisioner", ""),
    )  # fmt: skip
    assert response.status_code == 401
    assert_refused_without_token(response, "invalid_client")


def test_without_the_guard_the_audience_is_still_checked_against_the_authenticated_client(
    client, settings, provisioner_client, customer_app, machine_url
):
    # given the token endpoint's guard middleware is gone, allauth authenticates the body's client
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("TokenEndpointGuardMiddleware")]
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "resource": machine_url,
         "client_id": "customer-app", "client_secret": "customer-secret"},
        HTTP_AUTHORIZATION=basic_auth("atrium-provisioner", ""),
    )  # fmt: skip
    assert_refused_without_token(response, "invalid_target")


def test_basic_and_body_secret_together_are_refused_even_for_the_same_client(
    client, provisioner_client, machine_url
):
    prov, secret = provisioner_client
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "client_id": prov.id, "client_secret": secret},
        HTTP_AUTHORIZATION=basic_auth(prov.id, secret),
    )
    assert response.status_code == 401
    assert_refused_without_token(response, "invalid_client")


def test_a_basic_header_naming_another_client_than_the_body_is_refused(
    client, provisioner_client, customer_app
):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "client_id": "atrium-provisioner"},
        HTTP_AUTHORIZATION=basic_auth("customer-app", "customer-secret"),
    )
    assert_refused_without_token(response, "invalid_client")


def test_basic_with_the_same_client_id_in_the_body_is_accepted(client, provisioner_client):
    # mozilla-django-oidc sends client_id in the body next to its Basic header
    prov, secret = provisioner_client
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "client_id": prov.id},
        HTTP_AUTHORIZATION=basic_auth(prov.id, secret),
    )
    assert response.status_code == 200, response.content


# --- clients that must never obtain a machine audience ---------------------------------------
def test_a_customer_client_gets_no_region_audience_by_client_credentials(client, customer_app, machine_url):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "resource": machine_url},
        HTTP_AUTHORIZATION=basic_auth("customer-app", "customer-secret"),
    )
    assert_refused_without_token(response, "invalid_target")


def test_a_region_login_client_gets_no_audience_by_client_credentials(client, region_us, machine_url):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "openid", "resource": machine_url},
        HTTP_AUTHORIZATION=basic_auth(region_us.oidc_client_id, region_us.secret),
    )
    assert_refused_without_token(response, "invalid_target", "unauthorized_client")


def test_a_region_login_client_asking_at_authorize_is_sent_back_with_invalid_target(
    client, alice, region_us, machine_url
):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(
        client,
        region_us.oidc_client_id,
        region_us.oidc_redirect_uri,
        challenge=challenge,
        resource=machine_url,
    )
    assert response.status_code == 302
    assert response["Location"].startswith(region_us.oidc_redirect_uri)
    params = query_of(response)
    assert params["error"] == "invalid_target"
    assert params["state"] == "state-1"
    assert "code" not in params


def test_a_region_login_client_gets_no_audience_at_code_exchange(client, alice, region_us, machine_url):
    response = code_flow_tokens(
        client,
        alice,
        region_us.oidc_client_id,
        region_us.secret,
        region_us.oidc_redirect_uri,
        resource=machine_url,
    )
    assert_refused_without_token(response, "invalid_target")


@pytest.mark.parametrize("who", ["customer-app", "region-us-with-refresh"])
def test_a_login_client_gets_no_audience_by_refresh(client, alice, region_us, customer_app, machine_url, who):
    # given a login client that has refresh tokens (a customer's; or a region's, configured by hand)
    if who == "customer-app":
        client_id, secret, redirect = "customer-app", "customer-secret", CUSTOMER_REDIRECT
    else:
        login_client = Client.objects.get(id=region_us.oidc_client_id)
        login_client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN])
        login_client.save()
        client_id, secret, redirect = region_us.oidc_client_id, region_us.secret, region_us.oidc_redirect_uri
    tokens = code_flow_tokens(client, alice, client_id, secret, redirect)
    assert tokens.status_code == 200, tokens.content
    # when it refreshes asking for a region's machine URL
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens.json()["refresh_token"],
            "resource": machine_url,
        },
        HTTP_AUTHORIZATION=basic_auth(client_id, secret),
    )
    # then
    assert_refused_without_token(response, "invalid_target")


def test_a_customer_client_asking_at_authorize_is_sent_back_with_invalid_target(
    client, alice, customer_app, machine_url
):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(client, "customer-app", CUSTOMER_REDIRECT, challenge=challenge, resource=machine_url)
    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_target"


# --- bad `resource` input at the authorization endpoint ---------------------------------------
@pytest.mark.parametrize(
    "resource",
    ["notaurl", "https://x.test/a/../b", "https://x.test/#frag", "https://x.test//double", "/relative"],
)
def test_a_malformed_resource_at_authorize_is_a_400_page(client, alice, region_us, resource):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(
        client, region_us.oidc_client_id, region_us.oidc_redirect_uri, challenge=challenge, resource=resource
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_a_refused_resource_with_an_unregistered_redirect_uri_is_never_redirected(
    client, alice, region_us, machine_url
):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(
        client, region_us.oidc_client_id, "https://evil.test/cb", challenge=challenge, resource=machine_url
    )
    assert response.status_code == 400
    assert "evil.test" not in response.get("Location", "")


def test_a_refused_resource_for_an_unknown_client_is_a_400_page(client, alice, machine_url):
    client.force_login(alice)
    _, challenge = pkce_pair()
    response = authorize(client, "nobody", "https://evil.test/cb", challenge=challenge, resource=machine_url)
    assert response.status_code == 400


def test_a_client_registered_for_an_audience_keeps_it_through_the_code_flow(client, alice, machine_url):
    confidential_client(
        "ops-console", "ops-secret", grant_types=[Client.GrantType.AUTHORIZATION_CODE],
        scopes=["openid", "email"], redirect_uris=[CUSTOMER_REDIRECT], allowed_resources=[machine_url],
    )  # fmt: skip
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    response = authorize(client, "ops-console", CUSTOMER_REDIRECT, challenge=challenge, resource=machine_url)
    assert response.status_code == 302
    code = query_of(response)["code"]
    tokens = client.post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CUSTOMER_REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth("ops-console", "ops-secret"),
    )
    assert tokens.status_code == 200, tokens.content
    assert unverified_claims(tokens.json()["access_token"])["aud"] in (machine_url, [machine_url])
    assert settings.IDP_OIDC_ACCESS_TOKEN_FORMAT == "jwt"  # the audience check runs on JWT minting
