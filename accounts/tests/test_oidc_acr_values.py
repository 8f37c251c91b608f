"""`acr_values=urn:atrium:loa:2` asks for MFA: a session without it steps up first (issue 11)."""

from base64 import b32encode
from urllib.parse import urlparse

import pyotp
import pytest
from django.urls import reverse

from accounts.auth_context import LOA_1, LOA_2
from accounts.tests.oidc_helpers import unverified_claims
from accounts.tests.oidc_spec_helpers import (
    REDIRECT,
    authorize_url,
    code_of,
    exchange,
    mark_session_verified,
    password_login,
    query_of,
    rp_client,
    set_session,
    totp_device,
)
from conftest import pkce_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(db):
    return rp_client()


def id_claims(client, code: str, verifier: str) -> dict:
    return unverified_claims(exchange(client, code, verifier).json()["id_token"])


def current_code(device) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).now()


def test_an_enrolled_person_without_mfa_this_session_is_sent_to_verify_and_back(client, alice, rp):
    password_login(client, alice.email)
    device = totp_device(alice)  # enrolled after signing in: this session has not passed MFA
    verifier, challenge = pkce_pair()
    url = authorize_url(challenge, acr_values=LOA_2)
    # when
    sent = client.get(url)
    # then
    assert urlparse(sent["Location"]).path == reverse("mfa:verify")
    assert query_of(sent["Location"])["next"] == url
    # and after the step-up the same request gets a code at LOA 2
    page = client.get(sent["Location"])
    assert page.status_code == 200
    back = client.post(reverse("mfa:verify"), {"code": current_code(device), "next": page.context["next"]})
    assert back.status_code == 302 and back["Location"] == url, back.content[:300]
    claims = id_claims(client, code_of(client.get(url)), verifier)
    assert claims["acr"] == LOA_2
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_a_person_not_enrolled_is_sent_to_set_up_mfa_first(client, alice, rp):
    password_login(client, alice.email)
    _, challenge = pkce_pair()
    url = authorize_url(challenge, acr_values=LOA_2)
    sent = client.get(url)
    assert urlparse(sent["Location"]).path == reverse("mfa:index")
    assert query_of(sent["Location"])["next"] == url


def test_a_session_that_passed_mfa_gets_the_code_at_once(client, alice, rp):
    password_login(client, alice.email)
    mark_session_verified(client, totp_device(alice))
    verifier, challenge = pkce_pair()
    claims = id_claims(client, code_of(client.get(authorize_url(challenge, acr_values=LOA_2))), verifier)
    assert claims["acr"] == LOA_2


def test_a_trusted_idp_mfa_counts_as_mfa(client, alice, rp):
    client.force_login(alice)
    set_session(client, atrium_federated={"account": "acme", "mfa": True})
    verifier, challenge = pkce_pair()
    claims = id_claims(client, code_of(client.get(authorize_url(challenge, acr_values=LOA_2))), verifier)
    assert claims["amr"] == ["fed", "mfa"]


def test_under_prompt_none_a_session_without_mfa_gets_interaction_required(client, alice, rp):
    password_login(client, alice.email)
    totp_device(alice)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge, acr_values=LOA_2, prompt="none"))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT)
    answer = query_of(response["Location"])
    assert answer["error"] == "interaction_required"
    assert "code" not in answer


@pytest.mark.parametrize("acr_values", [LOA_1, "urn:example:gold", f"urn:example:gold {LOA_1}", ""])
def test_values_other_than_loa2_are_ignored(client, alice, rp, acr_values):
    password_login(client, alice.email)
    totp_device(alice)
    verifier, challenge = pkce_pair()
    claims = id_claims(client, code_of(client.get(authorize_url(challenge, acr_values=acr_values))), verifier)
    assert claims["acr"] == LOA_1


def test_loa2_among_other_values_is_asked_for(client, alice, rp):
    password_login(client, alice.email)
    totp_device(alice)
    _, challenge = pkce_pair()
    sent = client.get(authorize_url(challenge, acr_values=f"urn:example:gold {LOA_2}"))
    assert urlparse(sent["Location"]).path == reverse("mfa:verify")
