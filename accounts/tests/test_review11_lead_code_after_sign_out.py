"""A code issued just before a sign-out cannot be exchanged after it (rpol's open finding)."""

import pytest
from django.test import Client as HttpClient

from accounts import sessions
from accounts.tests.oidc_helpers import TOKEN_URL, authorize, basic_auth, query_of, region_with_login_client
from conftest import pkce_pair

pytestmark = pytest.mark.django_db


def _code_and_verifier(browser, eu):
    verifier, challenge = pkce_pair()
    response = authorize(browser, eu.oidc_client_id, eu.oidc_redirect_uri, challenge=challenge)
    return query_of(response)["code"], verifier


def _exchange(browser, eu, code, verifier):
    return browser.post(
        TOKEN_URL,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": eu.oidc_redirect_uri,
         "code_verifier": verifier},
        HTTP_AUTHORIZATION=basic_auth(eu.oidc_client_id, eu.secret),
    )  # fmt: skip


def test_a_code_issued_before_an_admins_sign_out_cannot_be_exchanged_after_it(owner, bob_m, bob, tmp_path):
    eu = region_with_login_client("eu", tmp_path, 8101, 9101)
    browser = HttpClient()
    browser.force_login(bob)
    code, verifier = _code_and_verifier(browser, eu)
    sessions.member_sign_out_everywhere(actor=owner, membership=bob_m)
    response = _exchange(browser, eu, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_of_a_session_still_open_is_exchanged(bob, tmp_path):
    eu = region_with_login_client("eu", tmp_path, 8101, 9101)
    browser = HttpClient()
    browser.force_login(bob)
    code, verifier = _code_and_verifier(browser, eu)
    response = _exchange(browser, eu, code, verifier)
    assert response.status_code == 200
    assert response.json()["id_token"]
