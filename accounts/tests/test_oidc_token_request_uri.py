"""Token request parameters in the query string are refused: allauth hands oauthlib the full URL
and oauthlib merges query parameters into the request, so credentials there would escape the
per-client rate limit and the one-authentication-method rule (RFC 6749 §2.3.1: client
credentials "MUST NOT be included in the request URI")."""

import pytest
from allauth.idp.oidc.models import Client

from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, confidential_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.ATRIUM_RATE_LIMITS_ENABLED = True
    settings.ATRIUM_TOKEN_RATE_WINDOW = 60
    settings.ATRIUM_TOKEN_RATE_PER_CLIENT = 3
    settings.ATRIUM_TOKEN_RATE_PER_IP = 1000
    settings.ATRIUM_TOKEN_RATE_FAILED_AUTH_COST = 1
    return settings


@pytest.fixture
def m1(db):
    return confidential_client(
        "m1", "m1-secret", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"]
    )


def test_client_credentials_in_the_query_string_are_refused(client, m1):
    response = client.post(
        f"{TOKEN_URL}?client_id=m1&client_secret=m1-secret", {"grant_type": "client_credentials"}
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"] == "invalid_request"


def test_the_per_client_limit_holds_whatever_carries_the_credentials(client, limits, m1):
    statuses = [
        client.post(
            f"{TOKEN_URL}?client_id=m1&client_secret=m1-secret", {"grant_type": "client_credentials"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses.count(200) <= 3, statuses


def test_two_methods_are_refused_when_the_second_is_in_the_query_string(client, m1):
    confidential_client("m2", "m2-secret", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"])
    response = client.post(
        f"{TOKEN_URL}?client_secret=m1-secret",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth("m2", "m2-secret"),
    )
    assert response.status_code in (400, 401), response.content[:300]
