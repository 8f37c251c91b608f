"""Hostile review of issue 11 (rauth): the authorize step's `max_age` at its edges."""

from urllib.parse import urlparse

import pytest
from django.urls import reverse

from accounts.tests.oidc_helpers import unverified_claims
from accounts.tests.oidc_spec_helpers import (
    authorize_url,
    code_of,
    exchange,
    password_login,
    rp_client,
)
from conftest import PASSWORD, pkce_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(db):
    return rp_client()


def test_max_age_0_from_a_signed_out_browser_is_satisfied_by_the_login_it_asked_for(client, alice, rp):
    verifier, challenge = pkce_pair()
    url = authorize_url(challenge, max_age="0")
    sent = client.get(url)
    assert urlparse(sent["Location"]).path == reverse("account_login")
    back = client.post(sent["Location"], {"login": alice.email, "password": PASSWORD})
    assert back.status_code == 302 and back["Location"] == url
    # the person just typed their password for this very request: no second password page
    code = code_of(client.get(url))
    claims = unverified_claims(exchange(client, code, verifier).json()["id_token"])
    assert claims["amr"] == ["pwd"] and "auth_time" in claims
    # ... once: the next request with max_age=0 asks again
    _, challenge2 = pkce_pair()
    again = client.get(authorize_url(challenge2, max_age="0"))
    assert urlparse(again["Location"]).path == reverse("account_reauthenticate")


@pytest.mark.parametrize("max_age", ["9" * 5000, "0" * 5000 + "1"])
def test_a_max_age_too_long_for_an_integer_is_never_a_500(client, alice, rp, max_age):
    password_login(client, alice.email)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge, max_age=max_age))
    assert response.status_code in (200, 302, 400)
