"""Token endpoint rate limits per client and per IP (shared cache): 429 with Retry-After and an
OAuth JSON error body; failed client authentication costs the IP more. Each test turns the limits
on itself (the test run sets ATRIUM_DISABLE_RATE_LIMITS=1 for everything else)."""

import pytest
from allauth.idp.oidc.models import Client

from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, confidential_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.ATRIUM_RATE_LIMITS_ENABLED = True
    settings.ATRIUM_TOKEN_RATE_WINDOW = 60
    settings.ATRIUM_TOKEN_RATE_PER_CLIENT = 1000
    settings.ATRIUM_TOKEN_RATE_PER_IP = 1000
    settings.ATRIUM_TOKEN_RATE_FAILED_AUTH_COST = 1
    return settings


@pytest.fixture
def machines(db):
    for name in ("m1", "m2"):
        confidential_client(
            name, f"{name}-secret", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"]
        )


def grant(client, client_id: str, secret: str | None = None, ip: str = "127.0.0.1"):
    return client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client_id, secret or f"{client_id}-secret"),
        REMOTE_ADDR=ip,
    )


def assert_throttled(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "temporarily_unavailable"
    assert "access_token" not in body


def test_a_client_over_its_budget_gets_429_with_retry_after(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_CLIENT = 3
    assert [grant(client, "m1").status_code for _ in range(3)] == [200, 200, 200]
    # when
    over = grant(client, "m1")
    # then
    assert_throttled(over)
    assert grant(client, "m2").status_code == 200  # another client keeps its own budget


def test_an_address_over_its_budget_gets_429_whatever_the_client(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_IP = 4
    assert [grant(client, c).status_code for c in ("m1", "m2", "m1", "m2")] == [200] * 4
    assert_throttled(grant(client, "m1"))
    assert grant(client, "m1", ip="127.0.0.2").status_code == 200  # another address is not affected


def test_failed_client_authentication_costs_the_address_more(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_IP = 10
    limits.ATRIUM_TOKEN_RATE_FAILED_AUTH_COST = 5
    assert grant(client, "m1", "wrong").status_code == 401
    assert grant(client, "m1", "wrong").status_code == 401
    # two failures used the whole budget of ten
    assert_throttled(grant(client, "m1"))


def test_two_authentication_methods_count_as_a_failed_authentication(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_IP = 10
    limits.ATRIUM_TOKEN_RATE_FAILED_AUTH_COST = 10
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "client_id": "m1", "client_secret": "m1-secret"},
        HTTP_AUTHORIZATION=basic_auth("m1", "m1-secret"),
    )
    assert response.status_code == 401
    assert_throttled(grant(client, "m1"))


def test_failures_naming_a_client_do_not_use_up_its_budget(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_CLIENT = 2
    for _ in range(5):
        assert grant(client, "m1", "guess", ip="127.0.0.9").status_code == 401
    assert [grant(client, "m1").status_code for _ in range(2)] == [200, 200]


def test_limits_are_off_when_disabled(client, limits, machines):
    limits.ATRIUM_RATE_LIMITS_ENABLED = False
    limits.ATRIUM_TOKEN_RATE_PER_CLIENT = 1
    limits.ATRIUM_TOKEN_RATE_PER_IP = 1
    assert [grant(client, "m1").status_code for _ in range(3)] == [200, 200, 200]


def test_other_endpoints_are_not_counted(client, limits, machines):
    limits.ATRIUM_TOKEN_RATE_PER_IP = 1
    for _ in range(3):
        assert client.get("/.well-known/openid-configuration").status_code == 200
    assert grant(client, "m1").status_code == 200


def test_a_broken_multipart_body_is_a_400_not_a_500(client, limits):
    response = client.generic(
        "POST", TOKEN_URL, b"--x\r\nbroken", content_type="multipart/form-data; boundary="
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
